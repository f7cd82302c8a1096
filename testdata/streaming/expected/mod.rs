// @generated
pub mod streaming {
    // @@protoc_insertion_point(attribute:streaming.v1)
    pub mod v1 {
        include!("streaming/v1/streaming.v1.rs");
        // @@protoc_insertion_point(streaming.v1)
    }
}
