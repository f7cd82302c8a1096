//! Forwarding a plugin's stdout and stderr into the host's `tracing` logs.

/// Logs one line the plugin wrote; a JSON object becomes a structured record.
pub(super) fn log_line(name: &str, stream: &'static str, line: &str) {
    if let Ok(serde_json::Value::Object(obj)) = serde_json::from_str::<serde_json::Value>(line) {
        let level = obj
            .get("level")
            .and_then(|v| v.as_str())
            .unwrap_or("info")
            .to_ascii_lowercase();
        let message = obj
            .get("msg")
            .or_else(|| obj.get("message"))
            .or_else(|| obj.get("fields").and_then(|f| f.get("message")))
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_owned();
        let fields = serde_json::Value::Object(obj).to_string();
        match level.as_str() {
            "error" => tracing::error!(plugin = %name, stream, %fields, "{message}"),
            "warn" | "warning" => tracing::warn!(plugin = %name, stream, %fields, "{message}"),
            "debug" => tracing::debug!(plugin = %name, stream, %fields, "{message}"),
            "trace" => tracing::trace!(plugin = %name, stream, %fields, "{message}"),
            _ => tracing::info!(plugin = %name, stream, %fields, "{message}"),
        }
    } else {
        tracing::info!(plugin = %name, stream, "{line}");
    }
}
