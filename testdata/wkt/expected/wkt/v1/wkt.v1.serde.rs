// @generated
impl serde::Serialize for UpdateRequest {
    #[allow(deprecated)]
    fn serialize<S>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error>
    where
        S: serde::Serializer,
    {
        use serde::ser::SerializeStruct;
        let mut len = 0;
        if self.mask.is_some() {
            len += 1;
        }
        if self.data.is_some() {
            len += 1;
        }
        if self.at.is_some() {
            len += 1;
        }
        if self.list.is_some() {
            len += 1;
        }
        if self.flag.is_some() {
            len += 1;
        }
        if self.detail.is_some() {
            len += 1;
        }
        if !self.details.is_empty() {
            len += 1;
        }
        if !self.by_name.is_empty() {
            len += 1;
        }
        if self.choice.is_some() {
            len += 1;
        }
        let mut struct_ser = serializer.serialize_struct("wkt.v1.UpdateRequest", len)?;
        if let Some(v) = self.mask.as_ref() {
            struct_ser.serialize_field("mask", v)?;
        }
        if let Some(v) = self.data.as_ref() {
            struct_ser.serialize_field("data", v)?;
        }
        if let Some(v) = self.at.as_ref() {
            struct_ser.serialize_field("at", v)?;
        }
        if let Some(v) = self.list.as_ref() {
            struct_ser.serialize_field("list", v)?;
        }
        if let Some(v) = self.flag.as_ref() {
            struct_ser.serialize_field("flag", v)?;
        }
        if let Some(v) = self.detail.as_ref() {
            struct_ser.serialize_field("detail", v)?;
        }
        if !self.details.is_empty() {
            struct_ser.serialize_field("details", &self.details)?;
        }
        if !self.by_name.is_empty() {
            struct_ser.serialize_field("byName", &self.by_name)?;
        }
        if let Some(v) = self.choice.as_ref() {
            match v {
                update_request::Choice::Packed(v) => {
                    struct_ser.serialize_field("packed", v)?;
                }
                update_request::Choice::Text(v) => {
                    struct_ser.serialize_field("text", v)?;
                }
            }
        }
        struct_ser.end()
    }
}
impl<'de> serde::Deserialize<'de> for UpdateRequest {
    #[allow(deprecated)]
    fn deserialize<D>(deserializer: D) -> std::result::Result<Self, D::Error>
    where
        D: serde::Deserializer<'de>,
    {
        const FIELDS: &[&str] = &[
            "mask",
            "data",
            "at",
            "list",
            "flag",
            "detail",
            "details",
            "by_name",
            "byName",
            "packed",
            "text",
        ];

        #[allow(clippy::enum_variant_names)]
        enum GeneratedField {
            Mask,
            Data,
            At,
            List,
            Flag,
            Detail,
            Details,
            ByName,
            Packed,
            Text,
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
                            "mask" => Ok(GeneratedField::Mask),
                            "data" => Ok(GeneratedField::Data),
                            "at" => Ok(GeneratedField::At),
                            "list" => Ok(GeneratedField::List),
                            "flag" => Ok(GeneratedField::Flag),
                            "detail" => Ok(GeneratedField::Detail),
                            "details" => Ok(GeneratedField::Details),
                            "byName" | "by_name" => Ok(GeneratedField::ByName),
                            "packed" => Ok(GeneratedField::Packed),
                            "text" => Ok(GeneratedField::Text),
                            _ => Ok(GeneratedField::__SkipField__),
                        }
                    }
                }
                deserializer.deserialize_identifier(GeneratedVisitor)
            }
        }
        struct GeneratedVisitor;
        impl<'de> serde::de::Visitor<'de> for GeneratedVisitor {
            type Value = UpdateRequest;

            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("struct wkt.v1.UpdateRequest")
            }

            fn visit_map<V>(self, mut map_: V) -> std::result::Result<UpdateRequest, V::Error>
                where
                    V: serde::de::MapAccess<'de>,
            {
                let mut mask__ = None;
                let mut data__ = None;
                let mut at__ = None;
                let mut list__ = None;
                let mut flag__ = None;
                let mut detail__ = None;
                let mut details__ = None;
                let mut by_name__ = None;
                let mut choice__ = None;
                while let Some(k) = map_.next_key()? {
                    match k {
                        GeneratedField::Mask => {
                            if mask__.is_some() {
                                return Err(serde::de::Error::duplicate_field("mask"));
                            }
                            mask__ = map_.next_value()?;
                        }
                        GeneratedField::Data => {
                            if data__.is_some() {
                                return Err(serde::de::Error::duplicate_field("data"));
                            }
                            data__ = map_.next_value()?;
                        }
                        GeneratedField::At => {
                            if at__.is_some() {
                                return Err(serde::de::Error::duplicate_field("at"));
                            }
                            at__ = map_.next_value()?;
                        }
                        GeneratedField::List => {
                            if list__.is_some() {
                                return Err(serde::de::Error::duplicate_field("list"));
                            }
                            list__ = map_.next_value()?;
                        }
                        GeneratedField::Flag => {
                            if flag__.is_some() {
                                return Err(serde::de::Error::duplicate_field("flag"));
                            }
                            flag__ = map_.next_value()?;
                        }
                        GeneratedField::Detail => {
                            if detail__.is_some() {
                                return Err(serde::de::Error::duplicate_field("detail"));
                            }
                            detail__ = map_.next_value()?;
                        }
                        GeneratedField::Details => {
                            if details__.is_some() {
                                return Err(serde::de::Error::duplicate_field("details"));
                            }
                            details__ = Some(map_.next_value()?);
                        }
                        GeneratedField::ByName => {
                            if by_name__.is_some() {
                                return Err(serde::de::Error::duplicate_field("byName"));
                            }
                            by_name__ = Some(
                                map_.next_value::<std::collections::HashMap<_, _>>()?
                            );
                        }
                        GeneratedField::Packed => {
                            if choice__.is_some() {
                                return Err(serde::de::Error::duplicate_field("packed"));
                            }
                            choice__ = map_.next_value::<::std::option::Option<_>>()?.map(update_request::Choice::Packed)
;
                        }
                        GeneratedField::Text => {
                            if choice__.is_some() {
                                return Err(serde::de::Error::duplicate_field("text"));
                            }
                            choice__ = map_.next_value::<::std::option::Option<_>>()?.map(update_request::Choice::Text);
                        }
                        GeneratedField::__SkipField__ => {
                            let _ = map_.next_value::<serde::de::IgnoredAny>()?;
                        }
                    }
                }
                Ok(UpdateRequest {
                    mask: mask__,
                    data: data__,
                    at: at__,
                    list: list__,
                    flag: flag__,
                    detail: detail__,
                    details: details__.unwrap_or_default(),
                    by_name: by_name__.unwrap_or_default(),
                    choice: choice__,
                })
            }
        }
        deserializer.deserialize_struct("wkt.v1.UpdateRequest", FIELDS, GeneratedVisitor)
    }
}
