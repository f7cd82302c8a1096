// @generated
pub mod optnoinclude {
    // @@protoc_insertion_point(attribute:optnoinclude.v1)
    pub mod v1 {
        include!("optnoinclude/v1/optnoinclude.v1.rs");
        // @@protoc_insertion_point(optnoinclude.v1)
    }
}
