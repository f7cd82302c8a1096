// @generated
pub mod optexternpath {
    // @@protoc_insertion_point(attribute:optexternpath.v1)
    pub mod v1 {
        include!("optexternpath/v1/optexternpath.v1.rs");
        // @@protoc_insertion_point(optexternpath.v1)
    }
}
