// @generated
pub mod noservice {
    // @@protoc_insertion_point(attribute:noservice.v1)
    pub mod v1 {
        include!("noservice/v1/noservice.v1.rs");
        // @@protoc_insertion_point(noservice.v1)
    }
}
