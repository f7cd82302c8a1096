// @generated
pub mod optnoclient {
    // @@protoc_insertion_point(attribute:optnoclient.v1)
    pub mod v1 {
        include!("optnoclient/v1/optnoclient.v1.rs");
        // @@protoc_insertion_point(optnoclient.v1)
    }
}
