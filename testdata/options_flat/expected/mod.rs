// @generated
pub mod optflat {
    // @@protoc_insertion_point(attribute:optflat.v1)
    pub mod v1 {
        include!("optflat.v1.rs");
        // @@protoc_insertion_point(optflat.v1)
        // @@protoc_insertion_point(attribute:optflat.v1.sub)
        pub mod sub {
            include!("optflat.v1.sub.rs");
            // @@protoc_insertion_point(optflat.v1.sub)
        }
    }
}
