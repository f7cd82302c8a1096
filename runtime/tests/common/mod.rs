//! What the runtime's socket tests share.

/// `message Msg { string text = 1; }`, by hand.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
pub struct Msg {
    #[prost(string, tag = "1")]
    #[serde(default)]
    pub text: String,
}
