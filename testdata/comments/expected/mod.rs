// @generated
pub mod comments {
    // @@protoc_insertion_point(attribute:comments.v1)
    pub mod v1 {
        include!("comments/v1/comments.v1.rs");
        // @@protoc_insertion_point(comments.v1)
    }
}
