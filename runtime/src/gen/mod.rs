// @generated
pub mod connectplugin {
    // @@protoc_insertion_point(attribute:connectplugin.v1)
    pub mod v1 {
        include!("connectplugin/v1/connectplugin.v1.rs");
        // @@protoc_insertion_point(connectplugin.v1)
    }
}
pub mod grpc {
    pub mod health {
        // @@protoc_insertion_point(attribute:grpc.health.v1)
        pub mod v1 {
            include!("grpc/health/v1/grpc.health.v1.rs");
            // @@protoc_insertion_point(grpc.health.v1)
        }
    }
}
