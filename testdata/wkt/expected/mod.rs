// @generated
pub mod wkt {
    // @@protoc_insertion_point(attribute:wkt.v1)
    pub mod v1 {
        include!("wkt/v1/wkt.v1.rs");
        // @@protoc_insertion_point(wkt.v1)
    }
}
