// @generated
impl serde::Serialize for ConfirmAddressRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.nonce.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.ConfirmAddressRequest", len)?;
        if !self.nonce.is_empty() {
            struct_ser.serialize_field("nonce", &self.nonce)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ConfirmAddressRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "nonce",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Nonce,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "nonce" => Ok(GeneratedField::Nonce),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ConfirmAddressRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.ConfirmAddressRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ConfirmAddressRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut nonce__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Nonce => {
                            if nonce__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nonce"));
                            }
                            nonce__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ConfirmAddressRequest {
                    nonce: nonce__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.ConfirmAddressRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ConfirmAddressResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("connectplugin.v1.ConfirmAddressResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ConfirmAddressResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Ok(GeneratedField::__SkipField__)
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ConfirmAddressResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.ConfirmAddressResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ConfirmAddressResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(ConfirmAddressResponse {
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.ConfirmAddressResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DiscoverServiceRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.service_type.is_empty() {
            len += 1;
        }
        if !self.min_version.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.DiscoverServiceRequest", len)?;
        if !self.service_type.is_empty() {
            struct_ser.serialize_field("serviceType", &self.service_type)?;
        }
        if !self.min_version.is_empty() {
            struct_ser.serialize_field("minVersion", &self.min_version)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DiscoverServiceRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "service_type",
            "serviceType",
            "min_version",
            "minVersion",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ServiceType,
            MinVersion,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "serviceType" | "service_type" => Ok(GeneratedField::ServiceType),
                            "minVersion" | "min_version" => Ok(GeneratedField::MinVersion),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = DiscoverServiceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.DiscoverServiceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DiscoverServiceRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut service_type__ = None;
                let mut min_version__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ServiceType => {
                            if service_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serviceType"));
                            }
                            service_type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::MinVersion => {
                            if min_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("minVersion"));
                            }
                            min_version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(DiscoverServiceRequest {
                    service_type: service_type__.unwrap_or_default(),
                    min_version: min_version__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.DiscoverServiceRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for DiscoverServiceResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.endpoint.is_some() {
            len += 1;
        }
        if !self.all.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.DiscoverServiceResponse", len)?;
        if let Some(v) = self.endpoint.as_ref() {
            struct_ser.serialize_field("endpoint", v)?;
        }
        if !self.all.is_empty() {
            struct_ser.serialize_field("all", &self.all)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for DiscoverServiceResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "endpoint",
            "all",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Endpoint,
            All,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "endpoint" => Ok(GeneratedField::Endpoint),
                            "all" => Ok(GeneratedField::All),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = DiscoverServiceResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.DiscoverServiceResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<DiscoverServiceResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut endpoint__ = None;
                let mut all__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Endpoint => {
                            if endpoint__.is_some() {
                                return Err(serde::de::Error::duplicate_field("endpoint"));
                            }
                            endpoint__ = map_.next_value()?;
                        }
                        GeneratedField::All => {
                            if all__.is_some() {
                                return Err(serde::de::Error::duplicate_field("all"));
                            }
                            all__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(DiscoverServiceResponse {
                    endpoint: endpoint__,
                    all: all__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.DiscoverServiceResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetHealthRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("connectplugin.v1.GetHealthRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetHealthRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Ok(GeneratedField::__SkipField__)
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetHealthRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.GetHealthRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetHealthRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetHealthRequest {
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.GetHealthRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetHealthResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.state != 0 {
            len += 1;
        }
        if !self.reason.is_empty() {
            len += 1;
        }
        if !self.unavailable_dependencies.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.GetHealthResponse", len)?;
        if self.state != 0 {
            let v = HealthState::try_from(self.state)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.state)))?;
            struct_ser.serialize_field("state", &v)?;
        }
        if !self.reason.is_empty() {
            struct_ser.serialize_field("reason", &self.reason)?;
        }
        if !self.unavailable_dependencies.is_empty() {
            struct_ser.serialize_field("unavailableDependencies", &self.unavailable_dependencies)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetHealthResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "state",
            "reason",
            "unavailable_dependencies",
            "unavailableDependencies",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            State,
            Reason,
            UnavailableDependencies,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "state" => Ok(GeneratedField::State),
                            "reason" => Ok(GeneratedField::Reason),
                            "unavailableDependencies" | "unavailable_dependencies" => Ok(GeneratedField::UnavailableDependencies),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetHealthResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.GetHealthResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetHealthResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut state__ = None;
                let mut reason__ = None;
                let mut unavailable_dependencies__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::State => {
                            if state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("state"));
                            }
                            state__ = Some(map_.next_value::<HealthState>()? as i32);
                        }
                        GeneratedField::Reason => {
                            if reason__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reason"));
                            }
                            reason__ = Some(map_.next_value()?);
                        }
                        GeneratedField::UnavailableDependencies => {
                            if unavailable_dependencies__.is_some() {
                                return Err(serde::de::Error::duplicate_field("unavailableDependencies"));
                            }
                            unavailable_dependencies__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(GetHealthResponse {
                    state: state__.unwrap_or_default(),
                    reason: reason__.unwrap_or_default(),
                    unavailable_dependencies: unavailable_dependencies__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.GetHealthResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetPluginInfoRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("connectplugin.v1.GetPluginInfoRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetPluginInfoRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Ok(GeneratedField::__SkipField__)
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetPluginInfoRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.GetPluginInfoRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetPluginInfoRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(GetPluginInfoRequest {
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.GetPluginInfoRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for GetPluginInfoResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.self_id.is_empty() {
            len += 1;
        }
        if !self.self_version.is_empty() {
            len += 1;
        }
        if !self.provides.is_empty() {
            len += 1;
        }
        if !self.requires.is_empty() {
            len += 1;
        }
        if !self.capabilities.is_empty() {
            len += 1;
        }
        if !self.metadata.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.GetPluginInfoResponse", len)?;
        if !self.self_id.is_empty() {
            struct_ser.serialize_field("selfId", &self.self_id)?;
        }
        if !self.self_version.is_empty() {
            struct_ser.serialize_field("selfVersion", &self.self_version)?;
        }
        if !self.provides.is_empty() {
            struct_ser.serialize_field("provides", &self.provides)?;
        }
        if !self.requires.is_empty() {
            struct_ser.serialize_field("requires", &self.requires)?;
        }
        if !self.capabilities.is_empty() {
            struct_ser.serialize_field("capabilities", &self.capabilities)?;
        }
        if !self.metadata.is_empty() {
            struct_ser.serialize_field("metadata", &self.metadata)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for GetPluginInfoResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "self_id",
            "selfId",
            "self_version",
            "selfVersion",
            "provides",
            "requires",
            "capabilities",
            "metadata",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            SelfId,
            SelfVersion,
            Provides,
            Requires,
            Capabilities,
            Metadata,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "selfId" | "self_id" => Ok(GeneratedField::SelfId),
                            "selfVersion" | "self_version" => Ok(GeneratedField::SelfVersion),
                            "provides" => Ok(GeneratedField::Provides),
                            "requires" => Ok(GeneratedField::Requires),
                            "capabilities" => Ok(GeneratedField::Capabilities),
                            "metadata" => Ok(GeneratedField::Metadata),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = GetPluginInfoResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.GetPluginInfoResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<GetPluginInfoResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut self_id__ = None;
                let mut self_version__ = None;
                let mut provides__ = None;
                let mut requires__ = None;
                let mut capabilities__ = None;
                let mut metadata__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::SelfId => {
                            if self_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("selfId"));
                            }
                            self_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SelfVersion => {
                            if self_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("selfVersion"));
                            }
                            self_version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Provides => {
                            if provides__.is_some() {
                                return Err(serde::de::Error::duplicate_field("provides"));
                            }
                            provides__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Requires => {
                            if requires__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requires"));
                            }
                            requires__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Capabilities => {
                            if capabilities__.is_some() {
                                return Err(serde::de::Error::duplicate_field("capabilities"));
                            }
                            capabilities__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Metadata => {
                            if metadata__.is_some() {
                                return Err(serde::de::Error::duplicate_field("metadata"));
                            }
                            metadata__ = Some(
                                map_.next_value::<std::collections::HashMap<_, _>>()?
                            );
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(GetPluginInfoResponse {
                    self_id: self_id__.unwrap_or_default(),
                    self_version: self_version__.unwrap_or_default(),
                    provides: provides__.unwrap_or_default(),
                    requires: requires__.unwrap_or_default(),
                    capabilities: capabilities__.unwrap_or_default(),
                    metadata: metadata__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.GetPluginInfoResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HandshakeRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.core_protocol_version != 0 {
            len += 1;
        }
        if !self.app_protocol_versions.is_empty() {
            len += 1;
        }
        if !self.magic_cookie_key.is_empty() {
            len += 1;
        }
        if !self.magic_cookie_value.is_empty() {
            len += 1;
        }
        if !self.requested_plugins.is_empty() {
            len += 1;
        }
        if !self.self_id.is_empty() {
            len += 1;
        }
        if !self.self_version.is_empty() {
            len += 1;
        }
        if !self.provides.is_empty() {
            len += 1;
        }
        if !self.requires.is_empty() {
            len += 1;
        }
        if !self.capabilities.is_empty() {
            len += 1;
        }
        if !self.address.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.HandshakeRequest", len)?;
        if self.core_protocol_version != 0 {
            struct_ser.serialize_field("coreProtocolVersion", &self.core_protocol_version)?;
        }
        if !self.app_protocol_versions.is_empty() {
            struct_ser.serialize_field("appProtocolVersions", &self.app_protocol_versions)?;
        }
        if !self.magic_cookie_key.is_empty() {
            struct_ser.serialize_field("magicCookieKey", &self.magic_cookie_key)?;
        }
        if !self.magic_cookie_value.is_empty() {
            struct_ser.serialize_field("magicCookieValue", &self.magic_cookie_value)?;
        }
        if !self.requested_plugins.is_empty() {
            struct_ser.serialize_field("requestedPlugins", &self.requested_plugins)?;
        }
        if !self.self_id.is_empty() {
            struct_ser.serialize_field("selfId", &self.self_id)?;
        }
        if !self.self_version.is_empty() {
            struct_ser.serialize_field("selfVersion", &self.self_version)?;
        }
        if !self.provides.is_empty() {
            struct_ser.serialize_field("provides", &self.provides)?;
        }
        if !self.requires.is_empty() {
            struct_ser.serialize_field("requires", &self.requires)?;
        }
        if !self.capabilities.is_empty() {
            struct_ser.serialize_field("capabilities", &self.capabilities)?;
        }
        if !self.address.is_empty() {
            struct_ser.serialize_field("address", &self.address)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for HandshakeRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "core_protocol_version",
            "coreProtocolVersion",
            "app_protocol_versions",
            "appProtocolVersions",
            "magic_cookie_key",
            "magicCookieKey",
            "magic_cookie_value",
            "magicCookieValue",
            "requested_plugins",
            "requestedPlugins",
            "self_id",
            "selfId",
            "self_version",
            "selfVersion",
            "provides",
            "requires",
            "capabilities",
            "address",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            CoreProtocolVersion,
            AppProtocolVersions,
            MagicCookieKey,
            MagicCookieValue,
            RequestedPlugins,
            SelfId,
            SelfVersion,
            Provides,
            Requires,
            Capabilities,
            Address,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "coreProtocolVersion" | "core_protocol_version" => Ok(GeneratedField::CoreProtocolVersion),
                            "appProtocolVersions" | "app_protocol_versions" => Ok(GeneratedField::AppProtocolVersions),
                            "magicCookieKey" | "magic_cookie_key" => Ok(GeneratedField::MagicCookieKey),
                            "magicCookieValue" | "magic_cookie_value" => Ok(GeneratedField::MagicCookieValue),
                            "requestedPlugins" | "requested_plugins" => Ok(GeneratedField::RequestedPlugins),
                            "selfId" | "self_id" => Ok(GeneratedField::SelfId),
                            "selfVersion" | "self_version" => Ok(GeneratedField::SelfVersion),
                            "provides" => Ok(GeneratedField::Provides),
                            "requires" => Ok(GeneratedField::Requires),
                            "capabilities" => Ok(GeneratedField::Capabilities),
                            "address" => Ok(GeneratedField::Address),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = HandshakeRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.HandshakeRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<HandshakeRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut core_protocol_version__ = None;
                let mut app_protocol_versions__ = None;
                let mut magic_cookie_key__ = None;
                let mut magic_cookie_value__ = None;
                let mut requested_plugins__ = None;
                let mut self_id__ = None;
                let mut self_version__ = None;
                let mut provides__ = None;
                let mut requires__ = None;
                let mut capabilities__ = None;
                let mut address__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::CoreProtocolVersion => {
                            if core_protocol_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("coreProtocolVersion"));
                            }
                            core_protocol_version__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AppProtocolVersions => {
                            if app_protocol_versions__.is_some() {
                                return Err(serde::de::Error::duplicate_field("appProtocolVersions"));
                            }
                            app_protocol_versions__ = 
                                Some(map_.next_value::<Vec<::pbjson::private::NumberDeserialize<_>>>()?
                                    .into_iter().map(|x| x.0).collect())
                            ;
                        }
                        GeneratedField::MagicCookieKey => {
                            if magic_cookie_key__.is_some() {
                                return Err(serde::de::Error::duplicate_field("magicCookieKey"));
                            }
                            magic_cookie_key__ = Some(map_.next_value()?);
                        }
                        GeneratedField::MagicCookieValue => {
                            if magic_cookie_value__.is_some() {
                                return Err(serde::de::Error::duplicate_field("magicCookieValue"));
                            }
                            magic_cookie_value__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RequestedPlugins => {
                            if requested_plugins__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requestedPlugins"));
                            }
                            requested_plugins__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SelfId => {
                            if self_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("selfId"));
                            }
                            self_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::SelfVersion => {
                            if self_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("selfVersion"));
                            }
                            self_version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Provides => {
                            if provides__.is_some() {
                                return Err(serde::de::Error::duplicate_field("provides"));
                            }
                            provides__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Requires => {
                            if requires__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requires"));
                            }
                            requires__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Capabilities => {
                            if capabilities__.is_some() {
                                return Err(serde::de::Error::duplicate_field("capabilities"));
                            }
                            capabilities__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Address => {
                            if address__.is_some() {
                                return Err(serde::de::Error::duplicate_field("address"));
                            }
                            address__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(HandshakeRequest {
                    core_protocol_version: core_protocol_version__.unwrap_or_default(),
                    app_protocol_versions: app_protocol_versions__.unwrap_or_default(),
                    magic_cookie_key: magic_cookie_key__.unwrap_or_default(),
                    magic_cookie_value: magic_cookie_value__.unwrap_or_default(),
                    requested_plugins: requested_plugins__.unwrap_or_default(),
                    self_id: self_id__.unwrap_or_default(),
                    self_version: self_version__.unwrap_or_default(),
                    provides: provides__.unwrap_or_default(),
                    requires: requires__.unwrap_or_default(),
                    capabilities: capabilities__.unwrap_or_default(),
                    address: address__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.HandshakeRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HandshakeResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.core_protocol_version != 0 {
            len += 1;
        }
        if self.app_protocol_version != 0 {
            len += 1;
        }
        if !self.plugins.is_empty() {
            len += 1;
        }
        if !self.runtime_id.is_empty() {
            len += 1;
        }
        if !self.runtime_token.is_empty() {
            len += 1;
        }
        if self.token_expires_at.is_some() {
            len += 1;
        }
        if !self.capabilities.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.HandshakeResponse", len)?;
        if self.core_protocol_version != 0 {
            struct_ser.serialize_field("coreProtocolVersion", &self.core_protocol_version)?;
        }
        if self.app_protocol_version != 0 {
            struct_ser.serialize_field("appProtocolVersion", &self.app_protocol_version)?;
        }
        if !self.plugins.is_empty() {
            struct_ser.serialize_field("plugins", &self.plugins)?;
        }
        if !self.runtime_id.is_empty() {
            struct_ser.serialize_field("runtimeId", &self.runtime_id)?;
        }
        if !self.runtime_token.is_empty() {
            struct_ser.serialize_field("runtimeToken", &self.runtime_token)?;
        }
        if let Some(v) = self.token_expires_at.as_ref() {
            struct_ser.serialize_field("tokenExpiresAt", v)?;
        }
        if !self.capabilities.is_empty() {
            struct_ser.serialize_field("capabilities", &self.capabilities)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for HandshakeResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "core_protocol_version",
            "coreProtocolVersion",
            "app_protocol_version",
            "appProtocolVersion",
            "plugins",
            "runtime_id",
            "runtimeId",
            "runtime_token",
            "runtimeToken",
            "token_expires_at",
            "tokenExpiresAt",
            "capabilities",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            CoreProtocolVersion,
            AppProtocolVersion,
            Plugins,
            RuntimeId,
            RuntimeToken,
            TokenExpiresAt,
            Capabilities,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "coreProtocolVersion" | "core_protocol_version" => Ok(GeneratedField::CoreProtocolVersion),
                            "appProtocolVersion" | "app_protocol_version" => Ok(GeneratedField::AppProtocolVersion),
                            "plugins" => Ok(GeneratedField::Plugins),
                            "runtimeId" | "runtime_id" => Ok(GeneratedField::RuntimeId),
                            "runtimeToken" | "runtime_token" => Ok(GeneratedField::RuntimeToken),
                            "tokenExpiresAt" | "token_expires_at" => Ok(GeneratedField::TokenExpiresAt),
                            "capabilities" => Ok(GeneratedField::Capabilities),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = HandshakeResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.HandshakeResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<HandshakeResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut core_protocol_version__ = None;
                let mut app_protocol_version__ = None;
                let mut plugins__ = None;
                let mut runtime_id__ = None;
                let mut runtime_token__ = None;
                let mut token_expires_at__ = None;
                let mut capabilities__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::CoreProtocolVersion => {
                            if core_protocol_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("coreProtocolVersion"));
                            }
                            core_protocol_version__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::AppProtocolVersion => {
                            if app_protocol_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("appProtocolVersion"));
                            }
                            app_protocol_version__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Plugins => {
                            if plugins__.is_some() {
                                return Err(serde::de::Error::duplicate_field("plugins"));
                            }
                            plugins__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RuntimeId => {
                            if runtime_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("runtimeId"));
                            }
                            runtime_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RuntimeToken => {
                            if runtime_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("runtimeToken"));
                            }
                            runtime_token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TokenExpiresAt => {
                            if token_expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tokenExpiresAt"));
                            }
                            token_expires_at__ = map_.next_value()?;
                        }
                        GeneratedField::Capabilities => {
                            if capabilities__.is_some() {
                                return Err(serde::de::Error::duplicate_field("capabilities"));
                            }
                            capabilities__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(HandshakeResponse {
                    core_protocol_version: core_protocol_version__.unwrap_or_default(),
                    app_protocol_version: app_protocol_version__.unwrap_or_default(),
                    plugins: plugins__.unwrap_or_default(),
                    runtime_id: runtime_id__.unwrap_or_default(),
                    runtime_token: runtime_token__.unwrap_or_default(),
                    token_expires_at: token_expires_at__,
                    capabilities: capabilities__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.HandshakeResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for HealthState {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "HEALTH_STATE_UNSPECIFIED",
            Self::Healthy => "HEALTH_STATE_HEALTHY",
            Self::Degraded => "HEALTH_STATE_DEGRADED",
            Self::Unhealthy => "HEALTH_STATE_UNHEALTHY",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for HealthState {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "HEALTH_STATE_UNSPECIFIED",
            "HEALTH_STATE_HEALTHY",
            "HEALTH_STATE_DEGRADED",
            "HEALTH_STATE_UNHEALTHY",
        ];

        struct GeneratedVisitor;

        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = HealthState;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "HEALTH_STATE_UNSPECIFIED" => Ok(HealthState::Unspecified),
                    "HEALTH_STATE_HEALTHY" => Ok(HealthState::Healthy),
                    "HEALTH_STATE_DEGRADED" => Ok(HealthState::Degraded),
                    "HEALTH_STATE_UNHEALTHY" => Ok(HealthState::Unhealthy),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for LeaveRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.reason.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.LeaveRequest", len)?;
        if !self.reason.is_empty() {
            struct_ser.serialize_field("reason", &self.reason)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for LeaveRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "reason",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Reason,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "reason" => Ok(GeneratedField::Reason),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = LeaveRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.LeaveRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<LeaveRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut reason__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Reason => {
                            if reason__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reason"));
                            }
                            reason__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(LeaveRequest {
                    reason: reason__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.LeaveRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for LeaveResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("connectplugin.v1.LeaveResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for LeaveResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Ok(GeneratedField::__SkipField__)
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = LeaveResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.LeaveResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<LeaveResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(LeaveResponse {
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.LeaveResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for MethodKind {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "METHOD_KIND_UNSPECIFIED",
            Self::Unary => "METHOD_KIND_UNARY",
            Self::ClientStreaming => "METHOD_KIND_CLIENT_STREAMING",
            Self::ServerStreaming => "METHOD_KIND_SERVER_STREAMING",
            Self::BidiStreaming => "METHOD_KIND_BIDI_STREAMING",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for MethodKind {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "METHOD_KIND_UNSPECIFIED",
            "METHOD_KIND_UNARY",
            "METHOD_KIND_CLIENT_STREAMING",
            "METHOD_KIND_SERVER_STREAMING",
            "METHOD_KIND_BIDI_STREAMING",
        ];

        struct GeneratedVisitor;

        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = MethodKind;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "METHOD_KIND_UNSPECIFIED" => Ok(MethodKind::Unspecified),
                    "METHOD_KIND_UNARY" => Ok(MethodKind::Unary),
                    "METHOD_KIND_CLIENT_STREAMING" => Ok(MethodKind::ClientStreaming),
                    "METHOD_KIND_SERVER_STREAMING" => Ok(MethodKind::ServerStreaming),
                    "METHOD_KIND_BIDI_STREAMING" => Ok(MethodKind::BidiStreaming),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for MethodSpec {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if self.kind != 0 {
            len += 1;
        }
        if self.no_side_effects {
            len += 1;
        }
        if self.idempotent {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.MethodSpec", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if self.kind != 0 {
            let v = MethodKind::try_from(self.kind)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.kind)))?;
            struct_ser.serialize_field("kind", &v)?;
        }
        if self.no_side_effects {
            struct_ser.serialize_field("noSideEffects", &self.no_side_effects)?;
        }
        if self.idempotent {
            struct_ser.serialize_field("idempotent", &self.idempotent)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for MethodSpec {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "kind",
            "no_side_effects",
            "noSideEffects",
            "idempotent",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            Kind,
            NoSideEffects,
            Idempotent,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "kind" => Ok(GeneratedField::Kind),
                            "noSideEffects" | "no_side_effects" => Ok(GeneratedField::NoSideEffects),
                            "idempotent" => Ok(GeneratedField::Idempotent),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = MethodSpec;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.MethodSpec")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<MethodSpec, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut kind__ = None;
                let mut no_side_effects__ = None;
                let mut idempotent__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Kind => {
                            if kind__.is_some() {
                                return Err(serde::de::Error::duplicate_field("kind"));
                            }
                            kind__ = Some(map_.next_value::<MethodKind>()? as i32);
                        }
                        GeneratedField::NoSideEffects => {
                            if no_side_effects__.is_some() {
                                return Err(serde::de::Error::duplicate_field("noSideEffects"));
                            }
                            no_side_effects__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Idempotent => {
                            if idempotent__.is_some() {
                                return Err(serde::de::Error::duplicate_field("idempotent"));
                            }
                            idempotent__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(MethodSpec {
                    name: name__.unwrap_or_default(),
                    kind: kind__.unwrap_or_default(),
                    no_side_effects: no_side_effects__.unwrap_or_default(),
                    idempotent: idempotent__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.MethodSpec", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for PluginDescriptor {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.name.is_empty() {
            len += 1;
        }
        if !self.service_name.is_empty() {
            len += 1;
        }
        if !self.service_path.is_empty() {
            len += 1;
        }
        if !self.version.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.PluginDescriptor", len)?;
        if !self.name.is_empty() {
            struct_ser.serialize_field("name", &self.name)?;
        }
        if !self.service_name.is_empty() {
            struct_ser.serialize_field("serviceName", &self.service_name)?;
        }
        if !self.service_path.is_empty() {
            struct_ser.serialize_field("servicePath", &self.service_path)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for PluginDescriptor {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "name",
            "service_name",
            "serviceName",
            "service_path",
            "servicePath",
            "version",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Name,
            ServiceName,
            ServicePath,
            Version,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "name" => Ok(GeneratedField::Name),
                            "serviceName" | "service_name" => Ok(GeneratedField::ServiceName),
                            "servicePath" | "service_path" => Ok(GeneratedField::ServicePath),
                            "version" => Ok(GeneratedField::Version),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = PluginDescriptor;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.PluginDescriptor")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<PluginDescriptor, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut name__ = None;
                let mut service_name__ = None;
                let mut service_path__ = None;
                let mut version__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Name => {
                            if name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("name"));
                            }
                            name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ServiceName => {
                            if service_name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serviceName"));
                            }
                            service_name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ServicePath => {
                            if service_path__.is_some() {
                                return Err(serde::de::Error::duplicate_field("servicePath"));
                            }
                            service_path__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(PluginDescriptor {
                    name: name__.unwrap_or_default(),
                    service_name: service_name__.unwrap_or_default(),
                    service_path: service_path__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.PluginDescriptor", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RefreshTokenRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("connectplugin.v1.RefreshTokenRequest", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RefreshTokenRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Ok(GeneratedField::__SkipField__)
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RefreshTokenRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.RefreshTokenRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RefreshTokenRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(RefreshTokenRequest {
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.RefreshTokenRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RefreshTokenResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.runtime_token.is_empty() {
            len += 1;
        }
        if self.token_expires_at.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.RefreshTokenResponse", len)?;
        if !self.runtime_token.is_empty() {
            struct_ser.serialize_field("runtimeToken", &self.runtime_token)?;
        }
        if let Some(v) = self.token_expires_at.as_ref() {
            struct_ser.serialize_field("tokenExpiresAt", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RefreshTokenResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "runtime_token",
            "runtimeToken",
            "token_expires_at",
            "tokenExpiresAt",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            RuntimeToken,
            TokenExpiresAt,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "runtimeToken" | "runtime_token" => Ok(GeneratedField::RuntimeToken),
                            "tokenExpiresAt" | "token_expires_at" => Ok(GeneratedField::TokenExpiresAt),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RefreshTokenResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.RefreshTokenResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RefreshTokenResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut runtime_token__ = None;
                let mut token_expires_at__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::RuntimeToken => {
                            if runtime_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("runtimeToken"));
                            }
                            runtime_token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TokenExpiresAt => {
                            if token_expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tokenExpiresAt"));
                            }
                            token_expires_at__ = map_.next_value()?;
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(RefreshTokenResponse {
                    runtime_token: runtime_token__.unwrap_or_default(),
                    token_expires_at: token_expires_at__,
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.RefreshTokenResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RegisterServiceRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.service_type.is_empty() {
            len += 1;
        }
        if !self.version.is_empty() {
            len += 1;
        }
        if !self.service_name.is_empty() {
            len += 1;
        }
        if !self.metadata.is_empty() {
            len += 1;
        }
        if self.weight != 0 {
            len += 1;
        }
        if !self.methods.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.RegisterServiceRequest", len)?;
        if !self.service_type.is_empty() {
            struct_ser.serialize_field("serviceType", &self.service_type)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if !self.service_name.is_empty() {
            struct_ser.serialize_field("serviceName", &self.service_name)?;
        }
        if !self.metadata.is_empty() {
            struct_ser.serialize_field("metadata", &self.metadata)?;
        }
        if self.weight != 0 {
            struct_ser.serialize_field("weight", &self.weight)?;
        }
        if !self.methods.is_empty() {
            struct_ser.serialize_field("methods", &self.methods)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RegisterServiceRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "service_type",
            "serviceType",
            "version",
            "service_name",
            "serviceName",
            "metadata",
            "weight",
            "methods",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ServiceType,
            Version,
            ServiceName,
            Metadata,
            Weight,
            Methods,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "serviceType" | "service_type" => Ok(GeneratedField::ServiceType),
                            "version" => Ok(GeneratedField::Version),
                            "serviceName" | "service_name" => Ok(GeneratedField::ServiceName),
                            "metadata" => Ok(GeneratedField::Metadata),
                            "weight" => Ok(GeneratedField::Weight),
                            "methods" => Ok(GeneratedField::Methods),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RegisterServiceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.RegisterServiceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RegisterServiceRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut service_type__ = None;
                let mut version__ = None;
                let mut service_name__ = None;
                let mut metadata__ = None;
                let mut weight__ = None;
                let mut methods__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ServiceType => {
                            if service_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serviceType"));
                            }
                            service_type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ServiceName => {
                            if service_name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serviceName"));
                            }
                            service_name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Metadata => {
                            if metadata__.is_some() {
                                return Err(serde::de::Error::duplicate_field("metadata"));
                            }
                            metadata__ = Some(
                                map_.next_value::<std::collections::HashMap<_, _>>()?
                            );
                        }
                        GeneratedField::Weight => {
                            if weight__.is_some() {
                                return Err(serde::de::Error::duplicate_field("weight"));
                            }
                            weight__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::Methods => {
                            if methods__.is_some() {
                                return Err(serde::de::Error::duplicate_field("methods"));
                            }
                            methods__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(RegisterServiceRequest {
                    service_type: service_type__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                    service_name: service_name__.unwrap_or_default(),
                    metadata: metadata__.unwrap_or_default(),
                    weight: weight__.unwrap_or_default(),
                    methods: methods__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.RegisterServiceRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RegisterServiceResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.registration_id.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.RegisterServiceResponse", len)?;
        if !self.registration_id.is_empty() {
            struct_ser.serialize_field("registrationId", &self.registration_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RegisterServiceResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "registration_id",
            "registrationId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            RegistrationId,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "registrationId" | "registration_id" => Ok(GeneratedField::RegistrationId),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RegisterServiceResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.RegisterServiceResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RegisterServiceResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut registration_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::RegistrationId => {
                            if registration_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("registrationId"));
                            }
                            registration_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(RegisterServiceResponse {
                    registration_id: registration_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.RegisterServiceResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ReportHealthRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.state != 0 {
            len += 1;
        }
        if !self.reason.is_empty() {
            len += 1;
        }
        if !self.unavailable_dependencies.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.ReportHealthRequest", len)?;
        if self.state != 0 {
            let v = HealthState::try_from(self.state)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.state)))?;
            struct_ser.serialize_field("state", &v)?;
        }
        if !self.reason.is_empty() {
            struct_ser.serialize_field("reason", &self.reason)?;
        }
        if !self.unavailable_dependencies.is_empty() {
            struct_ser.serialize_field("unavailableDependencies", &self.unavailable_dependencies)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ReportHealthRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "state",
            "reason",
            "unavailable_dependencies",
            "unavailableDependencies",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            State,
            Reason,
            UnavailableDependencies,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "state" => Ok(GeneratedField::State),
                            "reason" => Ok(GeneratedField::Reason),
                            "unavailableDependencies" | "unavailable_dependencies" => Ok(GeneratedField::UnavailableDependencies),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ReportHealthRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.ReportHealthRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ReportHealthRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut state__ = None;
                let mut reason__ = None;
                let mut unavailable_dependencies__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::State => {
                            if state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("state"));
                            }
                            state__ = Some(map_.next_value::<HealthState>()? as i32);
                        }
                        GeneratedField::Reason => {
                            if reason__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reason"));
                            }
                            reason__ = Some(map_.next_value()?);
                        }
                        GeneratedField::UnavailableDependencies => {
                            if unavailable_dependencies__.is_some() {
                                return Err(serde::de::Error::duplicate_field("unavailableDependencies"));
                            }
                            unavailable_dependencies__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ReportHealthRequest {
                    state: state__.unwrap_or_default(),
                    reason: reason__.unwrap_or_default(),
                    unavailable_dependencies: unavailable_dependencies__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.ReportHealthRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ReportHealthResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("connectplugin.v1.ReportHealthResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ReportHealthResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Ok(GeneratedField::__SkipField__)
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ReportHealthResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.ReportHealthResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ReportHealthResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(ReportHealthResponse {
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.ReportHealthResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RequestCapabilityRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.capability_type.is_empty() {
            len += 1;
        }
        if !self.min_version.is_empty() {
            len += 1;
        }
        if !self.reason.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.RequestCapabilityRequest", len)?;
        if !self.capability_type.is_empty() {
            struct_ser.serialize_field("capabilityType", &self.capability_type)?;
        }
        if !self.min_version.is_empty() {
            struct_ser.serialize_field("minVersion", &self.min_version)?;
        }
        if !self.reason.is_empty() {
            struct_ser.serialize_field("reason", &self.reason)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RequestCapabilityRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "capability_type",
            "capabilityType",
            "min_version",
            "minVersion",
            "reason",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            CapabilityType,
            MinVersion,
            Reason,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "capabilityType" | "capability_type" => Ok(GeneratedField::CapabilityType),
                            "minVersion" | "min_version" => Ok(GeneratedField::MinVersion),
                            "reason" => Ok(GeneratedField::Reason),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RequestCapabilityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.RequestCapabilityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RequestCapabilityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut capability_type__ = None;
                let mut min_version__ = None;
                let mut reason__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::CapabilityType => {
                            if capability_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("capabilityType"));
                            }
                            capability_type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::MinVersion => {
                            if min_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("minVersion"));
                            }
                            min_version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Reason => {
                            if reason__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reason"));
                            }
                            reason__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(RequestCapabilityRequest {
                    capability_type: capability_type__.unwrap_or_default(),
                    min_version: min_version__.unwrap_or_default(),
                    reason: reason__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.RequestCapabilityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for RequestCapabilityResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.capability_type.is_empty() {
            len += 1;
        }
        if !self.version.is_empty() {
            len += 1;
        }
        if !self.endpoint_url.is_empty() {
            len += 1;
        }
        if !self.token.is_empty() {
            len += 1;
        }
        if self.token_expires_at.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.RequestCapabilityResponse", len)?;
        if !self.capability_type.is_empty() {
            struct_ser.serialize_field("capabilityType", &self.capability_type)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if !self.endpoint_url.is_empty() {
            struct_ser.serialize_field("endpointUrl", &self.endpoint_url)?;
        }
        if !self.token.is_empty() {
            struct_ser.serialize_field("token", &self.token)?;
        }
        if let Some(v) = self.token_expires_at.as_ref() {
            struct_ser.serialize_field("tokenExpiresAt", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for RequestCapabilityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "capability_type",
            "capabilityType",
            "version",
            "endpoint_url",
            "endpointUrl",
            "token",
            "token_expires_at",
            "tokenExpiresAt",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            CapabilityType,
            Version,
            EndpointUrl,
            Token,
            TokenExpiresAt,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "capabilityType" | "capability_type" => Ok(GeneratedField::CapabilityType),
                            "version" => Ok(GeneratedField::Version),
                            "endpointUrl" | "endpoint_url" => Ok(GeneratedField::EndpointUrl),
                            "token" => Ok(GeneratedField::Token),
                            "tokenExpiresAt" | "token_expires_at" => Ok(GeneratedField::TokenExpiresAt),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = RequestCapabilityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.RequestCapabilityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<RequestCapabilityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut capability_type__ = None;
                let mut version__ = None;
                let mut endpoint_url__ = None;
                let mut token__ = None;
                let mut token_expires_at__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::CapabilityType => {
                            if capability_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("capabilityType"));
                            }
                            capability_type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::EndpointUrl => {
                            if endpoint_url__.is_some() {
                                return Err(serde::de::Error::duplicate_field("endpointUrl"));
                            }
                            endpoint_url__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Token => {
                            if token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("token"));
                            }
                            token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TokenExpiresAt => {
                            if token_expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tokenExpiresAt"));
                            }
                            token_expires_at__ = map_.next_value()?;
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(RequestCapabilityResponse {
                    capability_type: capability_type__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                    endpoint_url: endpoint_url__.unwrap_or_default(),
                    token: token__.unwrap_or_default(),
                    token_expires_at: token_expires_at__,
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.RequestCapabilityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ServiceDeclaration {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.r#type.is_empty() {
            len += 1;
        }
        if !self.version.is_empty() {
            len += 1;
        }
        if !self.service_name.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.ServiceDeclaration", len)?;
        if !self.r#type.is_empty() {
            struct_ser.serialize_field("type", &self.r#type)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if !self.service_name.is_empty() {
            struct_ser.serialize_field("serviceName", &self.service_name)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ServiceDeclaration {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "type",
            "version",
            "service_name",
            "serviceName",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Type,
            Version,
            ServiceName,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "type" => Ok(GeneratedField::Type),
                            "version" => Ok(GeneratedField::Version),
                            "serviceName" | "service_name" => Ok(GeneratedField::ServiceName),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ServiceDeclaration;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.ServiceDeclaration")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ServiceDeclaration, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut r#type__ = None;
                let mut version__ = None;
                let mut service_name__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("type"));
                            }
                            r#type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ServiceName => {
                            if service_name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serviceName"));
                            }
                            service_name__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ServiceDeclaration {
                    r#type: r#type__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                    service_name: service_name__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.ServiceDeclaration", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ServiceDependency {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.r#type.is_empty() {
            len += 1;
        }
        if !self.min_version.is_empty() {
            len += 1;
        }
        if self.required_for_startup {
            len += 1;
        }
        if self.watch {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.ServiceDependency", len)?;
        if !self.r#type.is_empty() {
            struct_ser.serialize_field("type", &self.r#type)?;
        }
        if !self.min_version.is_empty() {
            struct_ser.serialize_field("minVersion", &self.min_version)?;
        }
        if self.required_for_startup {
            struct_ser.serialize_field("requiredForStartup", &self.required_for_startup)?;
        }
        if self.watch {
            struct_ser.serialize_field("watch", &self.watch)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ServiceDependency {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "type",
            "min_version",
            "minVersion",
            "required_for_startup",
            "requiredForStartup",
            "watch",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Type,
            MinVersion,
            RequiredForStartup,
            Watch,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "type" => Ok(GeneratedField::Type),
                            "minVersion" | "min_version" => Ok(GeneratedField::MinVersion),
                            "requiredForStartup" | "required_for_startup" => Ok(GeneratedField::RequiredForStartup),
                            "watch" => Ok(GeneratedField::Watch),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ServiceDependency;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.ServiceDependency")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ServiceDependency, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut r#type__ = None;
                let mut min_version__ = None;
                let mut required_for_startup__ = None;
                let mut watch__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Type => {
                            if r#type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("type"));
                            }
                            r#type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::MinVersion => {
                            if min_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("minVersion"));
                            }
                            min_version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RequiredForStartup => {
                            if required_for_startup__.is_some() {
                                return Err(serde::de::Error::duplicate_field("requiredForStartup"));
                            }
                            required_for_startup__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Watch => {
                            if watch__.is_some() {
                                return Err(serde::de::Error::duplicate_field("watch"));
                            }
                            watch__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ServiceDependency {
                    r#type: r#type__.unwrap_or_default(),
                    min_version: min_version__.unwrap_or_default(),
                    required_for_startup: required_for_startup__.unwrap_or_default(),
                    watch: watch__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.ServiceDependency", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ServiceEndpoint {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.provider_id.is_empty() {
            len += 1;
        }
        if !self.service_type.is_empty() {
            len += 1;
        }
        if !self.version.is_empty() {
            len += 1;
        }
        if !self.endpoint_url.is_empty() {
            len += 1;
        }
        if self.state != 0 {
            len += 1;
        }
        if !self.metadata.is_empty() {
            len += 1;
        }
        if self.weight != 0 {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.ServiceEndpoint", len)?;
        if !self.provider_id.is_empty() {
            struct_ser.serialize_field("providerId", &self.provider_id)?;
        }
        if !self.service_type.is_empty() {
            struct_ser.serialize_field("serviceType", &self.service_type)?;
        }
        if !self.version.is_empty() {
            struct_ser.serialize_field("version", &self.version)?;
        }
        if !self.endpoint_url.is_empty() {
            struct_ser.serialize_field("endpointUrl", &self.endpoint_url)?;
        }
        if self.state != 0 {
            let v = ServiceState::try_from(self.state)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.state)))?;
            struct_ser.serialize_field("state", &v)?;
        }
        if !self.metadata.is_empty() {
            struct_ser.serialize_field("metadata", &self.metadata)?;
        }
        if self.weight != 0 {
            struct_ser.serialize_field("weight", &self.weight)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ServiceEndpoint {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "provider_id",
            "providerId",
            "service_type",
            "serviceType",
            "version",
            "endpoint_url",
            "endpointUrl",
            "state",
            "metadata",
            "weight",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ProviderId,
            ServiceType,
            Version,
            EndpointUrl,
            State,
            Metadata,
            Weight,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "providerId" | "provider_id" => Ok(GeneratedField::ProviderId),
                            "serviceType" | "service_type" => Ok(GeneratedField::ServiceType),
                            "version" => Ok(GeneratedField::Version),
                            "endpointUrl" | "endpoint_url" => Ok(GeneratedField::EndpointUrl),
                            "state" => Ok(GeneratedField::State),
                            "metadata" => Ok(GeneratedField::Metadata),
                            "weight" => Ok(GeneratedField::Weight),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ServiceEndpoint;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.ServiceEndpoint")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ServiceEndpoint, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut provider_id__ = None;
                let mut service_type__ = None;
                let mut version__ = None;
                let mut endpoint_url__ = None;
                let mut state__ = None;
                let mut metadata__ = None;
                let mut weight__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ProviderId => {
                            if provider_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("providerId"));
                            }
                            provider_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ServiceType => {
                            if service_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serviceType"));
                            }
                            service_type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Version => {
                            if version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("version"));
                            }
                            version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::EndpointUrl => {
                            if endpoint_url__.is_some() {
                                return Err(serde::de::Error::duplicate_field("endpointUrl"));
                            }
                            endpoint_url__ = Some(map_.next_value()?);
                        }
                        GeneratedField::State => {
                            if state__.is_some() {
                                return Err(serde::de::Error::duplicate_field("state"));
                            }
                            state__ = Some(map_.next_value::<ServiceState>()? as i32);
                        }
                        GeneratedField::Metadata => {
                            if metadata__.is_some() {
                                return Err(serde::de::Error::duplicate_field("metadata"));
                            }
                            metadata__ = Some(
                                map_.next_value::<std::collections::HashMap<_, _>>()?
                            );
                        }
                        GeneratedField::Weight => {
                            if weight__.is_some() {
                                return Err(serde::de::Error::duplicate_field("weight"));
                            }
                            weight__ = 
                                Some(map_.next_value::<::pbjson::private::NumberDeserialize<_>>()?.0)
                            ;
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ServiceEndpoint {
                    provider_id: provider_id__.unwrap_or_default(),
                    service_type: service_type__.unwrap_or_default(),
                    version: version__.unwrap_or_default(),
                    endpoint_url: endpoint_url__.unwrap_or_default(),
                    state: state__.unwrap_or_default(),
                    metadata: metadata__.unwrap_or_default(),
                    weight: weight__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.ServiceEndpoint", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ServiceState {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "SERVICE_STATE_UNSPECIFIED",
            Self::Available => "SERVICE_STATE_AVAILABLE",
            Self::Degraded => "SERVICE_STATE_DEGRADED",
            Self::Unavailable => "SERVICE_STATE_UNAVAILABLE",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for ServiceState {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "SERVICE_STATE_UNSPECIFIED",
            "SERVICE_STATE_AVAILABLE",
            "SERVICE_STATE_DEGRADED",
            "SERVICE_STATE_UNAVAILABLE",
        ];

        struct GeneratedVisitor;

        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ServiceState;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "SERVICE_STATE_UNSPECIFIED" => Ok(ServiceState::Unspecified),
                    "SERVICE_STATE_AVAILABLE" => Ok(ServiceState::Available),
                    "SERVICE_STATE_DEGRADED" => Ok(ServiceState::Degraded),
                    "SERVICE_STATE_UNAVAILABLE" => Ok(ServiceState::Unavailable),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for SetRuntimeIdentityRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.runtime_id.is_empty() {
            len += 1;
        }
        if !self.runtime_token.is_empty() {
            len += 1;
        }
        if self.token_expires_at.is_some() {
            len += 1;
        }
        if !self.host_url.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.SetRuntimeIdentityRequest", len)?;
        if !self.runtime_id.is_empty() {
            struct_ser.serialize_field("runtimeId", &self.runtime_id)?;
        }
        if !self.runtime_token.is_empty() {
            struct_ser.serialize_field("runtimeToken", &self.runtime_token)?;
        }
        if let Some(v) = self.token_expires_at.as_ref() {
            struct_ser.serialize_field("tokenExpiresAt", v)?;
        }
        if !self.host_url.is_empty() {
            struct_ser.serialize_field("hostUrl", &self.host_url)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SetRuntimeIdentityRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "runtime_id",
            "runtimeId",
            "runtime_token",
            "runtimeToken",
            "token_expires_at",
            "tokenExpiresAt",
            "host_url",
            "hostUrl",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            RuntimeId,
            RuntimeToken,
            TokenExpiresAt,
            HostUrl,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "runtimeId" | "runtime_id" => Ok(GeneratedField::RuntimeId),
                            "runtimeToken" | "runtime_token" => Ok(GeneratedField::RuntimeToken),
                            "tokenExpiresAt" | "token_expires_at" => Ok(GeneratedField::TokenExpiresAt),
                            "hostUrl" | "host_url" => Ok(GeneratedField::HostUrl),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SetRuntimeIdentityRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.SetRuntimeIdentityRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SetRuntimeIdentityRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut runtime_id__ = None;
                let mut runtime_token__ = None;
                let mut token_expires_at__ = None;
                let mut host_url__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::RuntimeId => {
                            if runtime_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("runtimeId"));
                            }
                            runtime_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::RuntimeToken => {
                            if runtime_token__.is_some() {
                                return Err(serde::de::Error::duplicate_field("runtimeToken"));
                            }
                            runtime_token__ = Some(map_.next_value()?);
                        }
                        GeneratedField::TokenExpiresAt => {
                            if token_expires_at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("tokenExpiresAt"));
                            }
                            token_expires_at__ = map_.next_value()?;
                        }
                        GeneratedField::HostUrl => {
                            if host_url__.is_some() {
                                return Err(serde::de::Error::duplicate_field("hostUrl"));
                            }
                            host_url__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(SetRuntimeIdentityRequest {
                    runtime_id: runtime_id__.unwrap_or_default(),
                    runtime_token: runtime_token__.unwrap_or_default(),
                    token_expires_at: token_expires_at__,
                    host_url: host_url__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.SetRuntimeIdentityRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for SetRuntimeIdentityResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("connectplugin.v1.SetRuntimeIdentityResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for SetRuntimeIdentityResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Ok(GeneratedField::__SkipField__)
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = SetRuntimeIdentityResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.SetRuntimeIdentityResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<SetRuntimeIdentityResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(SetRuntimeIdentityResponse {
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.SetRuntimeIdentityResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ShutdownRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.grace_period.is_some() {
            len += 1;
        }
        if !self.reason.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.ShutdownRequest", len)?;
        if let Some(v) = self.grace_period.as_ref() {
            struct_ser.serialize_field("gracePeriod", v)?;
        }
        if !self.reason.is_empty() {
            struct_ser.serialize_field("reason", &self.reason)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ShutdownRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "grace_period",
            "gracePeriod",
            "reason",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            GracePeriod,
            Reason,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "gracePeriod" | "grace_period" => Ok(GeneratedField::GracePeriod),
                            "reason" => Ok(GeneratedField::Reason),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ShutdownRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.ShutdownRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ShutdownRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut grace_period__ = None;
                let mut reason__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::GracePeriod => {
                            if grace_period__.is_some() {
                                return Err(serde::de::Error::duplicate_field("gracePeriod"));
                            }
                            grace_period__ = map_.next_value()?;
                        }
                        GeneratedField::Reason => {
                            if reason__.is_some() {
                                return Err(serde::de::Error::duplicate_field("reason"));
                            }
                            reason__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ShutdownRequest {
                    grace_period: grace_period__,
                    reason: reason__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.ShutdownRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for ShutdownResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.accepted {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.ShutdownResponse", len)?;
        if self.accepted {
            struct_ser.serialize_field("accepted", &self.accepted)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for ShutdownResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "accepted",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Accepted,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "accepted" => Ok(GeneratedField::Accepted),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = ShutdownResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.ShutdownResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<ShutdownResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut accepted__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Accepted => {
                            if accepted__.is_some() {
                                return Err(serde::de::Error::duplicate_field("accepted"));
                            }
                            accepted__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(ShutdownResponse {
                    accepted: accepted__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.ShutdownResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UnregisterServiceRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.registration_id.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.UnregisterServiceRequest", len)?;
        if !self.registration_id.is_empty() {
            struct_ser.serialize_field("registrationId", &self.registration_id)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for UnregisterServiceRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "registration_id",
            "registrationId",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            RegistrationId,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "registrationId" | "registration_id" => Ok(GeneratedField::RegistrationId),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = UnregisterServiceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.UnregisterServiceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UnregisterServiceRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut registration_id__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::RegistrationId => {
                            if registration_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("registrationId"));
                            }
                            registration_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(UnregisterServiceRequest {
                    registration_id: registration_id__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.UnregisterServiceRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for UnregisterServiceResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("connectplugin.v1.UnregisterServiceResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for UnregisterServiceResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Ok(GeneratedField::__SkipField__)
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = UnregisterServiceResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.UnregisterServiceResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UnregisterServiceResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(UnregisterServiceResponse {
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.UnregisterServiceResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VerifyAddressRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.runtime_id.is_empty() {
            len += 1;
        }
        if !self.nonce.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.VerifyAddressRequest", len)?;
        if !self.runtime_id.is_empty() {
            struct_ser.serialize_field("runtimeId", &self.runtime_id)?;
        }
        if !self.nonce.is_empty() {
            struct_ser.serialize_field("nonce", &self.nonce)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for VerifyAddressRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "runtime_id",
            "runtimeId",
            "nonce",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            RuntimeId,
            Nonce,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "runtimeId" | "runtime_id" => Ok(GeneratedField::RuntimeId),
                            "nonce" => Ok(GeneratedField::Nonce),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = VerifyAddressRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.VerifyAddressRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VerifyAddressRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut runtime_id__ = None;
                let mut nonce__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::RuntimeId => {
                            if runtime_id__.is_some() {
                                return Err(serde::de::Error::duplicate_field("runtimeId"));
                            }
                            runtime_id__ = Some(map_.next_value()?);
                        }
                        GeneratedField::Nonce => {
                            if nonce__.is_some() {
                                return Err(serde::de::Error::duplicate_field("nonce"));
                            }
                            nonce__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(VerifyAddressRequest {
                    runtime_id: runtime_id__.unwrap_or_default(),
                    nonce: nonce__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.VerifyAddressRequest", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for VerifyAddressResponse {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let len = 0;
        let struct_ser = serializer.serialize_struct("connectplugin.v1.VerifyAddressResponse", len)?;
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for VerifyAddressResponse {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                            Ok(GeneratedField::__SkipField__)
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = VerifyAddressResponse;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.VerifyAddressResponse")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<VerifyAddressResponse, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                while map_.next_key::<GeneratedField>()?.is_some() {
                    let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(VerifyAddressResponse {
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.VerifyAddressResponse", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for WatchServiceEvent {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.kind != 0 {
            len += 1;
        }
        if self.endpoint.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.WatchServiceEvent", len)?;
        if self.kind != 0 {
            let v = watch_service_event::Kind::try_from(self.kind)
                .map_err(|_| serde::ser::Error::custom(format!("Invalid variant {}", self.kind)))?;
            struct_ser.serialize_field("kind", &v)?;
        }
        if let Some(v) = self.endpoint.as_ref() {
            struct_ser.serialize_field("endpoint", v)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for WatchServiceEvent {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "kind",
            "endpoint",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Kind,
            Endpoint,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "kind" => Ok(GeneratedField::Kind),
                            "endpoint" => Ok(GeneratedField::Endpoint),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = WatchServiceEvent;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.WatchServiceEvent")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<WatchServiceEvent, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut kind__ = None;
                let mut endpoint__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Kind => {
                            if kind__.is_some() {
                                return Err(serde::de::Error::duplicate_field("kind"));
                            }
                            kind__ = Some(map_.next_value::<watch_service_event::Kind>()? as i32);
                        }
                        GeneratedField::Endpoint => {
                            if endpoint__.is_some() {
                                return Err(serde::de::Error::duplicate_field("endpoint"));
                            }
                            endpoint__ = map_.next_value()?;
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(WatchServiceEvent {
                    kind: kind__.unwrap_or_default(),
                    endpoint: endpoint__,
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.WatchServiceEvent", FIELDS, GeneratedVisitor)
    }
}
impl serde::Serialize for watch_service_event::Kind {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        let variant = match self {
            Self::Unspecified => "KIND_UNSPECIFIED",
            Self::Existing => "KIND_EXISTING",
            Self::Added => "KIND_ADDED",
            Self::Removed => "KIND_REMOVED",
            Self::Updated => "KIND_UPDATED",
        };
        serializer.serialize_str(variant)
    }
}
impl<'de> serde::Deserialize<'de> for watch_service_event::Kind {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "KIND_UNSPECIFIED",
            "KIND_EXISTING",
            "KIND_ADDED",
            "KIND_REMOVED",
            "KIND_UPDATED",
        ];

        struct GeneratedVisitor;

        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = watch_service_event::Kind;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(formatter, "expected one of: {:?}", &FIELDS)
            }

            fn visit_i64<E>(self, v: i64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Signed(v), &self)
                    })
            }

            fn visit_u64<E>(self, v: u64) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                i32::try_from(v)
                    .ok()
                    .and_then(|x| x.try_into().ok())
                    .ok_or_else(|| {
                        serde::de::Error::invalid_value(serde::de::Unexpected::Unsigned(v), &self)
                    })
            }

            fn visit_str<E>(self, value: &str) -> std::result::Result<Self::Value, E>
            where
                E: serde::de::Error,
            {
                match value {
                    "KIND_UNSPECIFIED" => Ok(watch_service_event::Kind::Unspecified),
                    "KIND_EXISTING" => Ok(watch_service_event::Kind::Existing),
                    "KIND_ADDED" => Ok(watch_service_event::Kind::Added),
                    "KIND_REMOVED" => Ok(watch_service_event::Kind::Removed),
                    "KIND_UPDATED" => Ok(watch_service_event::Kind::Updated),
                    _ => Err(serde::de::Error::unknown_variant(value, FIELDS)),
                }
            }
        }
        deserializer.deserialize_any(GeneratedVisitor)
    }
}
impl serde::Serialize for WatchServiceRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if !self.service_type.is_empty() {
            len += 1;
        }
        if !self.min_version.is_empty() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("connectplugin.v1.WatchServiceRequest", len)?;
        if !self.service_type.is_empty() {
            struct_ser.serialize_field("serviceType", &self.service_type)?;
        }
        if !self.min_version.is_empty() {
            struct_ser.serialize_field("minVersion", &self.min_version)?;
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for WatchServiceRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "service_type",
            "serviceType",
            "min_version",
            "minVersion",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            ServiceType,
            MinVersion,
            __SkipField__,
        }
        impl<'de> serde::Deserialize<'de> for GeneratedField {
            fn deserialize<D>(deserializer: D) -> std::result::Result<GeneratedField, D::Error>
            where
                D: serde::Deserializer<'de>,
            {
                struct GeneratedVisitor;

                impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
                    type Value = GeneratedField;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "expected one of: {:?}", &FIELDS)
                    }

                    #[allow(unused_variables)]
                    fn visit_str<E>(self, value: &str) -> std::result::Result<GeneratedField, E>
                    where
                        E: serde::de::Error,
                    {
                        match value {
                            "serviceType" | "service_type" => Ok(GeneratedField::ServiceType),
                            "minVersion" | "min_version" => Ok(GeneratedField::MinVersion),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = WatchServiceRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct connectplugin.v1.WatchServiceRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<WatchServiceRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut service_type__ = None;
                let mut min_version__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::ServiceType => {
                            if service_type__.is_some() {
                                return Err(serde::de::Error::duplicate_field("serviceType"));
                            }
                            service_type__ = Some(map_.next_value()?);
                        }
                        GeneratedField::MinVersion => {
                            if min_version__.is_some() {
                                return Err(serde::de::Error::duplicate_field("minVersion"));
                            }
                            min_version__ = Some(map_.next_value()?);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(WatchServiceRequest {
                    service_type: service_type__.unwrap_or_default(),
                    min_version: min_version__.unwrap_or_default(),
                })
            }
        }
        deserializer.deserialize_struct("connectplugin.v1.WatchServiceRequest", FIELDS, GeneratedVisitor)
    }
}
