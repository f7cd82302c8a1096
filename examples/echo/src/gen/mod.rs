// @generated
pub mod echo {
    // @@protoc_insertion_point(attribute:echo.v1)
    pub mod v1 {
        include!("echo/v1/echo.v1.rs");
        // @@protoc_insertion_point(echo.v1)
    }
}
