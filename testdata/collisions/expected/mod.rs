// @generated
pub mod collisions {
    // @@protoc_insertion_point(attribute:collisions.v1)
    pub mod v1 {
        include!("collisions/v1/collisions.v1.rs");
        // @@protoc_insertion_point(collisions.v1)
    }
}
