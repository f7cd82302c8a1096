// @generated
pub mod samepackage {
    // @@protoc_insertion_point(attribute:samepackage.v1)
    pub mod v1 {
        include!("samepackage/v1/samepackage.v1.rs");
        // @@protoc_insertion_point(samepackage.v1)
    }
}
