// @generated
pub mod diffpackage {
    pub mod common {
        // @@protoc_insertion_point(attribute:diffpackage.common.v1)
        pub mod v1 {
            include!("diffpackage/common/v1/diffpackage.common.v1.rs");
            // @@protoc_insertion_point(diffpackage.common.v1)
        }
    }
    // @@protoc_insertion_point(attribute:diffpackage.v1)
    pub mod v1 {
        include!("diffpackage/v1/diffpackage.v1.rs");
        // @@protoc_insertion_point(diffpackage.v1)
    }
}
// @@protoc_insertion_point(attribute:other)
pub mod other {
    include!("other/other.rs");
    // @@protoc_insertion_point(other)
}
