// @generated
pub mod optruntime {
    // @@protoc_insertion_point(attribute:optruntime.v1)
    pub mod v1 {
        include!("optruntime/v1/optruntime.v1.rs");
        // @@protoc_insertion_point(optruntime.v1)
    }
}
