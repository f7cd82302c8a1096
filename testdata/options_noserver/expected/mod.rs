// @generated
pub mod optnoserver {
    // @@protoc_insertion_point(attribute:optnoserver.v1)
    pub mod v1 {
        include!("optnoserver/v1/optnoserver.v1.rs");
        // @@protoc_insertion_point(optnoserver.v1)
    }
}
