// @generated
pub mod kv {
    // @@protoc_insertion_point(attribute:kv.v1)
    pub mod v1 {
        include!("kv/v1/kv.v1.rs");
        // @@protoc_insertion_point(kv.v1)
    }
}
