// @generated
pub mod keywords {
    // @@protoc_insertion_point(attribute:keywords.type)
    pub mod r#type {
        include!("keywords/r#type/keywords.type.rs");
        // @@protoc_insertion_point(keywords.type)
    }
    // @@protoc_insertion_point(attribute:keywords.v1)
    pub mod v1 {
        include!("keywords/v1/keywords.v1.rs");
        // @@protoc_insertion_point(keywords.v1)
    }
}
