//! The golden outputs of protoc-gen-connect-plugin (`testdata/*/expected/`), compiled: every
//! scenario is a module here, included exactly as protoc wrote it (through
//! protoc-gen-prost-crate's `mod.rs` where the scenario has one). `tests/` serves and calls
//! the `streaming` scenario's service end to end.
//!
//! The generated code is allowed clippy's lints and missing docs (prost's output has
//! undocumented items), as a user's crate would; `rustdoc`'s doctests do run over it, so a
//! proto comment that turned into a failing doctest breaks `cargo test -p golden-compile`.

/// What `runtime=crate` resolves to (the `options_runtime` scenario): the runtime's
/// `codegen` module, as if this crate were the runtime.
pub mod codegen {
    pub use connect_plugin::codegen::*;
}

macro_rules! scenarios {
    ($($name:ident => $path:literal),* $(,)?) => {
        $(
            #[allow(missing_docs, clippy::all)]
            #[path = $path]
            pub mod $name;
        )*
    };
}

scenarios! {
    streaming => "../../streaming/expected/mod.rs",
    samepackage => "../../samepackage/expected/mod.rs",
    diffpackage => "../../diffpackage/expected/mod.rs",
    noservice => "../../noservice/expected/mod.rs",
    keywords => "../../keywords/expected/mod.rs",
    wkt => "../../wkt/expected/mod.rs",
    collisions => "../../collisions/expected/mod.rs",
    comments => "../../comments/expected/mod.rs",
    options_noclient => "../../options_noclient/expected/mod.rs",
    options_noserver => "../../options_noserver/expected/mod.rs",
    options_flat => "../../options_flat/expected/mod.rs",
    // `runtime=crate`: the generated code names `crate::codegen` (above).
    options_runtime => "../../options_runtime/expected/mod.rs",
    // `extern_path=.diffpackage.common.v1=crate::diffpackage::diffpackage::common::v1`: the
    // shared messages are the diffpackage scenario's.
    options_externpath => "../../options_externpath/expected/mod.rs",
}

/// The default package: protoc-gen-prost-crate cannot lay it out (it panics on the default
/// package), so the modules are written here as a user would: the root file at the top,
/// the package below.
#[allow(missing_docs, clippy::all)]
pub mod defaultpackage {
    include!("../../defaultpackage/expected/_");

    pub mod defaultpackage {
        pub mod v1 {
            include!("../../defaultpackage/expected/defaultpackage/v1/defaultpackage.v1.rs");
        }
    }
}

/// `no_include`: protoc-gen-prost's file does not include ours, so the module includes both.
#[allow(missing_docs, clippy::all)]
pub mod options_noinclude {
    pub mod optnoinclude {
        pub mod v1 {
            include!("../../options_noinclude/expected/optnoinclude/v1/optnoinclude.v1.rs");
            include!(
                "../../options_noinclude/expected/optnoinclude/v1/optnoinclude.v1.connect_plugin.rs"
            );
        }
    }
}
