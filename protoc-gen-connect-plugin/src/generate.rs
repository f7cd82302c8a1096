//! Emits the Rust code of one proto package's services.

use std::collections::HashSet;

use heck::{ToShoutySnakeCase, ToSnakeCase};
use proc_macro2::TokenStream;
use quote::quote;

use crate::docs::doc_lines;
use crate::model::{Method, Service, TypeMap, escape, method_ident, type_ident};
use crate::options::Options;

fn path(s: &str) -> Result<TokenStream, String> {
    syn::parse_str::<syn::Path>(s)
        .map(|p| quote!(#p))
        .map_err(|e| format!("{s} is not a Rust path: {e}"))
}

/// A Rust identifier (`r#` prefix for a raw one); an error, not a panic, for anything else
/// (an empty name, a leading digit, a keyword).
fn ident(s: &str) -> Result<syn::Ident, String> {
    syn::parse_str::<syn::Ident>(s).map_err(|_| format!("{s:?} is not a usable Rust identifier"))
}

fn docs(comment: &str) -> TokenStream {
    let lines = doc_lines(comment);
    quote!(#(#[doc = #lines])*)
}

fn deprecated(d: bool) -> TokenStream {
    if d { quote!(#[deprecated]) } else { quote!() }
}

/// The plugin name: snake_case of the service name without a `Service` suffix.
pub fn plugin_name(service: &str) -> String {
    let snake = service.to_snake_case();
    match snake.strip_suffix("_service") {
        Some(s) if !s.is_empty() => s.to_owned(),
        _ => snake,
    }
}

/// The version of a package from its version component: `kv.v1` → `1.0.0`,
/// `kv.v2beta1` → `2.0.0-beta.1`; `0.0.0` when there is none.
pub fn package_version(package: &str) -> String {
    let Some(last) = package.rsplit('.').next() else {
        return "0.0.0".into();
    };
    let Some(rest) = last.strip_prefix('v') else {
        return "0.0.0".into();
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    if digits.is_empty() {
        return "0.0.0".into();
    }
    let tail = &rest[digits.len()..];
    let major: u64 = digits.parse().unwrap_or(0);
    if tail.is_empty() {
        return format!("{major}.0.0");
    }
    for pre in ["alpha", "beta"] {
        if let Some(n) = tail.strip_prefix(pre) {
            if n.is_empty() {
                return format!("{major}.0.0-{pre}");
            }
            if n.chars().all(|c| c.is_ascii_digit()) {
                return format!("{major}.0.0-{pre}.{n}");
            }
        }
    }
    "0.0.0".into()
}

/// The Rust name of a service's trait, and the bare form the other items are named after
/// (`KvService`; `Self_` → `Self`).
fn service_names(s: &Service) -> (String, String) {
    let trait_name = type_ident(&s.proto_name);
    let bare = trait_name
        .trim_start_matches("r#")
        .trim_end_matches('_')
        .to_owned();
    (trait_name, bare)
}

/// Generates the items of every service of one package.
///
/// All services of a package share one module, so their constants share one namespace:
/// `KV_SERVICE_NAME` is taken first for every service, then each method gets
/// `KV_SERVICE_GET` and `KV_SERVICE_GET_PATH` in proto order, or, when either is already taken
/// (a method named `Name`, or `Get` beside `GetPath`), the same with `_METHOD` appended
/// (`_METHOD2`, ... if need be).
///
/// Then `register_json_types()`, which registers `messages` (fully-qualified names of the
/// package's messages) for JSON inside `google.protobuf.Any`; see [`json_registration`].
pub fn package_code(
    package: &str,
    services: &[Service],
    messages: &[String],
    types: &TypeMap,
    opts: &Options,
) -> Result<TokenStream, String> {
    let mut out = services_code(services, types, opts)?;
    out.extend(json_registration(package, messages, types, opts)?);
    Ok(out)
}

/// The package's `register_json_types()`: registers every message in `messages`
/// (`.pkg.Msg`; those of `google.protobuf` are registered by the runtime already) with the
/// runtime's JSON type registry, once, so the JSON codec can write and read them inside a
/// `google.protobuf.Any`. The generated clients and routers call it when they are built.
pub fn json_registration(
    package: &str,
    messages: &[String],
    types: &TypeMap,
    opts: &Options,
) -> Result<TokenStream, String> {
    let rt = path(&opts.runtime)?;
    let cg = quote!(#rt::codegen);
    let mut calls = Vec::new();
    for fq in messages {
        if fq.starts_with(".google.protobuf.") {
            continue;
        }
        let ty = path(&types.rust_path(fq, package)?)?;
        let name = fq.trim_start_matches('.');
        calls.push(quote!(#cg::register_json_type_as::<#ty>(#name);));
    }
    Ok(quote! {
        /// Registers every message of this package with the runtime's JSON type registry,
        /// once, so the JSON codec can write and read them inside a `google.protobuf.Any`.
        /// Building a client or router of the package does it; call it when the package's
        /// messages travel in an `Any` without one.
        pub fn register_json_types() {
            static REGISTERED: ::std::sync::Once = ::std::sync::Once::new();
            REGISTERED.call_once(|| {
                #(#calls)*
            });
        }
    })
}

/// Generates the items of every service of one package, without the package's
/// `register_json_types()` (which they call).
pub fn services_code(
    services: &[Service],
    types: &TypeMap,
    opts: &Options,
) -> Result<TokenStream, String> {
    let rt = path(&opts.runtime)?;
    let cg = quote!(#rt::codegen);
    let mut consts = HashSet::new();
    let mut traits = HashSet::new();
    for s in services {
        let (trait_name, bare) = service_names(s);
        if !traits.insert(bare.clone()) || !consts.insert(name_const(&bare)) {
            return Err(format!(
                "two services of package {:?} map to the same Rust names ({trait_name})",
                s.package
            ));
        }
    }
    let mut out = TokenStream::new();
    for s in services {
        out.extend(service_code(s, types, opts, &cg, &mut consts)?);
    }
    Ok(out)
}

fn name_const(bare: &str) -> String {
    format!("{}_NAME", bare.to_shouty_snake_case())
}

/// The descriptor constant of a method (its path constant adds `_PATH`): the first of
/// `base`, `base_METHOD`, `base_METHOD2`, ... whose two names are free; both are then taken.
fn descriptor_const(base: &str, taken: &mut HashSet<String>) -> String {
    let mut n = 1;
    let name = loop {
        let candidate = match n {
            1 => base.to_owned(),
            2 => format!("{base}_METHOD"),
            _ => format!("{base}_METHOD{}", n - 1),
        };
        if !taken.contains(&candidate) && !taken.contains(&format!("{candidate}_PATH")) {
            break candidate;
        }
        n += 1;
    };
    taken.insert(format!("{name}_PATH"));
    taken.insert(name.clone());
    name
}

struct MethodParts {
    ident: syn::Ident,
    descriptor: syn::Ident,
    path_const: syn::Ident,
    input: TokenStream,
    output: TokenStream,
    m: Method,
}

fn service_code(
    s: &Service,
    types: &TypeMap,
    opts: &Options,
    cg: &TokenStream,
    taken_consts: &mut HashSet<String>,
) -> Result<TokenStream, String> {
    let full = s.full_name();
    let (trait_name, bare) = service_names(s);
    let trait_ident = ident(&trait_name)?;
    let client_ident = ident(&format!("{bare}Client"))?;
    let plugin_ident = ident(&format!("{bare}Plugin"))?;
    let router_fn = ident(&escape(format!("{}_router", bare.to_snake_case())))?;
    let shouty = bare.to_shouty_snake_case();
    let name_const = ident(&name_const(&bare))?;
    let mut service_doc = docs(&s.comment);
    if !s.comment.trim().is_empty() {
        service_doc.extend(quote!(#[doc = ""]));
    }
    let service_deprecated = deprecated(s.deprecated);
    let service_path = format!("/{full}/");

    let mut methods = Vec::new();
    let mut method_names = HashSet::new();
    for m in &s.methods {
        let mname = method_ident(&m.proto_name);
        if !method_names.insert(mname.clone()) {
            return Err(format!(
                "two methods of {full} map to the same Rust method {mname} (one is {})",
                m.proto_name
            ));
        }
        let input = path(&types.rust_path(&m.input, &s.package)?)?;
        let output = path(&types.rust_path(&m.output, &s.package)?)?;
        let descriptor = descriptor_const(
            &format!("{shouty}_{}", m.proto_name.to_shouty_snake_case()),
            taken_consts,
        );
        methods.push(MethodParts {
            ident: ident(&mname)?,
            path_const: ident(&format!("{descriptor}_PATH"))?,
            descriptor: ident(&descriptor)?,
            input,
            output,
            m: m.clone(),
        });
    }

    let mut consts = Vec::new();
    let mut trait_methods = Vec::new();
    let mut client_methods = Vec::new();
    let mut routes = Vec::new();
    for p in &methods {
        let MethodParts {
            ident: mi,
            descriptor,
            path_const,
            input,
            output,
            m,
        } = p;
        let method_path = format!("/{full}/{}", m.proto_name);
        let (stream_type, call, handler) = match (m.client_streaming, m.server_streaming) {
            (false, false) => (quote!(Unary), quote!(unary), quote!(unary)),
            (false, true) => (
                quote!(ServerStreaming),
                quote!(server_streaming),
                quote!(server_streaming),
            ),
            (true, false) => (
                quote!(ClientStreaming),
                quote!(client_streaming),
                quote!(client_streaming),
            ),
            (true, true) => (
                quote!(BidiStreaming),
                quote!(bidi_streaming),
                quote!(bidi_streaming),
            ),
        };
        let idempotency = match m.idempotency {
            1 => quote!(NoSideEffects),
            2 => quote!(Idempotent),
            _ => quote!(Unknown),
        };
        let path_doc = format!(" The HTTP path of `{}.{}`.", s.proto_name, m.proto_name);
        let desc_doc = format!(" The descriptor of `{}.{}`.", s.proto_name, m.proto_name);
        consts.push(quote! {
            #[doc = #path_doc]
            pub const #path_const: &str = #method_path;
            #[doc = #desc_doc]
            pub const #descriptor: #cg::MethodDescriptor = #cg::MethodDescriptor::new(
                #path_const,
                #cg::StreamType::#stream_type,
                #cg::Idempotency::#idempotency,
            );
        });
        let req_ty = if m.client_streaming {
            quote!(#cg::Request<#cg::Streaming<#input>>)
        } else {
            quote!(#cg::Request<#input>)
        };
        let res_ty = if m.server_streaming {
            quote!(#cg::Response<#cg::Streaming<#output>>)
        } else {
            quote!(#cg::Response<#output>)
        };
        let sig = quote! {
            fn #mi<'life0, 'async_trait>(
                &'life0 self,
                request: #req_ty,
            ) -> #cg::BoxFuture<'async_trait, ::core::result::Result<#res_ty, #cg::Status>>
            where
                'life0: 'async_trait,
                Self: 'async_trait
        };
        let mdoc = docs(&m.comment);
        let mdep = deprecated(m.deprecated);
        trait_methods.push(quote! {
            #mdoc
            #mdep
            #sig;
        });
        client_methods.push(quote! {
            #sig {
                ::std::boxed::Box::pin(self.inner.#call(&#descriptor, request))
            }
        });
        routes.push(quote! {
            .route(#descriptor, {
                let service = ::core::clone::Clone::clone(&service);
                #cg::#handler(move |request: #req_ty| {
                    let service = ::core::clone::Clone::clone(&service);
                    // Called through the trait: `service.clone(..)` would be `Arc::clone`.
                    async move { #trait_ident::#mi(&*service, request).await }
                })
            })
        });
    }

    let name_doc = format!(" The fully-qualified name of `{}`.", s.proto_name);
    let mut out = quote! {
        #[doc = #name_doc]
        pub const #name_const: &str = #full;
        #(#consts)*

        #service_doc
        /// Implemented by the plugin's own type (and served with the generated router) and by
        /// the generated remote client, so host code written against `Arc<dyn Trait>` works
        /// with either. Implement it with `#[connect_plugin::async_trait]` and `async fn`s.
        #service_deprecated
        pub trait #trait_ident: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#trait_methods)*
        }
    };

    if opts.client {
        let client_doc = format!(
            " The remote `{}`: every method is a call over the runtime's client (its transport and interceptor chain).",
            s.proto_name
        );
        out.extend(quote! {
            #[doc = #client_doc]
            #[derive(::core::clone::Clone, ::core::fmt::Debug)]
            pub struct #client_ident {
                inner: #cg::Client,
            }

            impl #client_ident {
                /// Calls the service through `client`.
                pub fn new(client: #cg::Client) -> Self {
                    register_json_types();
                    Self { inner: client }
                }

                /// The runtime client underneath.
                pub fn inner(&self) -> &#cg::Client {
                    &self.inner
                }
            }

            #[allow(deprecated)]
            impl #trait_ident for #client_ident {
                #(#client_methods)*
            }
        });
    }

    if opts.server {
        let router_doc = format!(
            " Serves an implementation of `{}` on every protocol.",
            s.proto_name
        );
        out.extend(quote! {
            #[doc = #router_doc]
            #[allow(deprecated)]
            pub fn #router_fn(service: #cg::Arc<dyn #trait_ident>) -> #cg::Router {
                register_json_types();
                #cg::Router::new()
                    #(#routes)*
            }
        });
    }

    if opts.client && opts.server {
        let name = plugin_name(&s.proto_name);
        let version = package_version(&s.package);
        let plugin_doc = format!(
            " The `{name}` plugin: `{full}` as a plugin (dispense it to get an `Arc<dyn {trait_name}>`)."
        );
        out.extend(quote! {
            #[doc = #plugin_doc]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::default::Default)]
            pub struct #plugin_ident;

            #[allow(deprecated)]
            impl #cg::Plugin for #plugin_ident {
                type Service = dyn #trait_ident;

                const INFO: #cg::PluginInfo = #cg::PluginInfo {
                    name: #name,
                    service_name: #name_const,
                    service_path: #service_path,
                    version: #version,
                };

                fn client(client: #cg::Client) -> #cg::Arc<dyn #trait_ident> {
                    #cg::Arc::new(#client_ident::new(client))
                }

                fn router(service: #cg::Arc<dyn #trait_ident>) -> #cg::Router {
                    #router_fn(service)
                }
            }
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost_types::{DescriptorProto, FileDescriptorProto};

    fn method(name: &str) -> Method {
        Method {
            proto_name: name.into(),
            input: ".pkg.v1.Msg".into(),
            output: ".pkg.v1.Msg".into(),
            client_streaming: false,
            server_streaming: false,
            comment: String::new(),
            deprecated: false,
            idempotency: 0,
        }
    }

    fn service(name: &str, methods: &[&str]) -> Service {
        Service {
            proto_name: name.into(),
            package: "pkg.v1".into(),
            comment: String::new(),
            deprecated: false,
            methods: methods.iter().map(|m| method(m)).collect(),
        }
    }

    fn code(services: &[Service]) -> Result<String, String> {
        let types = TypeMap::new(
            &[FileDescriptorProto {
                package: Some("pkg.v1".into()),
                message_type: vec![DescriptorProto {
                    name: Some("Msg".into()),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            &[],
        );
        let messages = [
            ".pkg.v1.Msg".to_owned(),
            ".google.protobuf.Empty".to_owned(),
        ];
        let tokens = package_code("pkg.v1", services, &messages, &types, &Options::default())?;
        let file: syn::File = syn::parse2(tokens).map_err(|e| e.to_string())?;
        Ok(prettyplease::unparse(&file))
    }

    fn const_names(code: &str) -> Vec<String> {
        code.lines()
            .filter_map(|l| l.strip_prefix("pub const "))
            .map(|l| l.split(':').next().unwrap_or_default().to_owned())
            .collect()
    }

    #[test]
    fn colliding_constants_get_method_suffixes() {
        let code = code(&[
            service("ThingService", &["Name", "Get", "GetPath", "GetPathMethod"]),
            service("Thing", &["ServiceName"]),
        ])
        .unwrap();
        assert_eq!(
            const_names(&code),
            [
                "THING_SERVICE_NAME",
                "THING_SERVICE_NAME_METHOD_PATH",
                "THING_SERVICE_NAME_METHOD",
                "THING_SERVICE_GET_PATH",
                "THING_SERVICE_GET",
                "THING_SERVICE_GET_PATH_METHOD_PATH",
                "THING_SERVICE_GET_PATH_METHOD",
                // `GetPathMethod` itself: its own name is taken by `GetPath`'s.
                "THING_SERVICE_GET_PATH_METHOD_METHOD_PATH",
                "THING_SERVICE_GET_PATH_METHOD_METHOD",
                "THING_NAME",
                "THING_SERVICE_NAME_METHOD2_PATH",
                "THING_SERVICE_NAME_METHOD2",
            ]
        );
        // Each descriptor carries its own method's path.
        assert!(code.contains(
            "pub const THING_SERVICE_NAME_METHOD2_PATH: &str = \"/pkg.v1.Thing/ServiceName\";"
        ));
        assert!(code.contains(".route(\n            THING_SERVICE_NAME_METHOD,"));
    }

    #[test]
    fn router_calls_methods_through_the_trait() {
        // `service.clone(request)` on an `Arc<dyn ThingService>` would be `Arc::clone`.
        let code = code(&[service("ThingService", &["Clone", "Into"])]).unwrap();
        assert!(
            code.contains("ThingService::clone(&*service, request).await"),
            "{code}"
        );
        assert!(code.contains("ThingService::into(&*service, request).await"));
        assert!(!code.contains("service.clone(request)"));
    }

    #[test]
    fn deprecated_service_items_allow_deprecation() {
        let mut s = service("OldService", &["Get"]);
        s.deprecated = true;
        let code = code(&[s]).unwrap();
        assert!(
            code.contains("#[deprecated]\npub trait OldService"),
            "{code}"
        );
        // Every item that names the trait allows it, so the generated code itself never warns.
        for item in [
            "impl OldService for OldServiceClient",
            "pub fn old_service_router(",
            "impl ::connect_plugin::codegen::Plugin for OldServicePlugin",
        ] {
            let at = code.find(item).unwrap_or_else(|| panic!("{item} missing"));
            let before = &code[..at];
            let attr = before.rfind("#[allow(deprecated)]").expect("an allow");
            assert!(
                !before[attr..].contains("\n}\n"),
                "{item} is not preceded by #[allow(deprecated)]"
            );
        }
    }

    #[test]
    fn unusable_names_are_errors_not_panics() {
        for (s, want) in [
            (service("_", &["Get"]), "not a usable Rust identifier"),
            (service("Svc", &["_"]), "not a usable Rust identifier"),
            (
                service("Svc", &["GetKV", "GetKv"]),
                "same Rust method get_kv",
            ),
        ] {
            let err = code(&[s]).unwrap_err();
            assert!(err.contains(want), "{err}");
        }
        let err = code(&[service("KvService", &[]), service("KVService", &[])]).unwrap_err();
        assert!(err.contains("same Rust names"), "{err}");
    }

    #[test]
    fn clients_and_routers_register_the_package_for_json() {
        let code = code(&[service("ThingService", &["Get"])]).unwrap();
        // Once, for the package's own messages; google.protobuf's are the runtime's.
        assert!(
            code.contains("pub fn register_json_types() {\n    static REGISTERED: ::std::sync::Once = ::std::sync::Once::new();\n    REGISTERED\n        .call_once(|| {\n            ::connect_plugin::codegen::register_json_type_as::<Msg>(\"pkg.v1.Msg\");\n        });"),
            "{code}"
        );
        assert!(!code.contains("google.protobuf.Empty"));
        for item in ["pub fn new(", "pub fn thing_service_router("] {
            let at = code.find(item).unwrap_or_else(|| panic!("{item} missing"));
            let body = &code[at..];
            let open = body.find("{\n").expect("a body");
            let first = body[open..].lines().nth(1).unwrap_or_default().trim();
            assert_eq!(first, "register_json_types();", "{item}");
        }
    }

    #[test]
    fn names_and_versions() {
        assert_eq!(plugin_name("KVService"), "kv");
        assert_eq!(plugin_name("EchoService"), "echo");
        assert_eq!(plugin_name("Service"), "service");
        assert_eq!(plugin_name("Logger"), "logger");
        assert_eq!(package_version("kv.v1"), "1.0.0");
        assert_eq!(package_version("kv.v2beta1"), "2.0.0-beta.1");
        assert_eq!(package_version("kv.v1alpha"), "1.0.0-alpha");
        assert_eq!(package_version("kv"), "0.0.0");
        assert_eq!(package_version(""), "0.0.0");
        assert_eq!(package_version("kv.version"), "0.0.0");
    }
}
