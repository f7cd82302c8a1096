//! Proto comments to rustdoc. Fenced blocks without a language and indented blocks become
//! `text` blocks (rustdoc would compile them as doctests otherwise), and lines starting with
//! `/` keep a leading space (`////` is a plain comment, not documentation).

/// Turns a proto comment into the lines of a doc comment (each `#[doc = ...]` value).
pub fn doc_lines(comment: &str) -> Vec<String> {
    let raw: Vec<&str> = comment.trim_end().lines().collect();
    // Proto comments usually carry one leading space after `//`.
    let strip_one = raw.iter().all(|l| l.is_empty() || l.starts_with(' '));
    let lines: Vec<String> = raw
        .iter()
        .map(|l| {
            if strip_one {
                l.strip_prefix(' ').unwrap_or(l)
            } else {
                l
            }
            .trim_end()
            .to_owned()
        })
        .collect();
    let mut out = Vec::new();
    let mut in_fence = false;
    let mut in_indented = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") {
            if in_indented {
                out.push("```".to_owned());
                in_indented = false;
            }
            if !in_fence && trimmed.trim_start_matches('`').trim().is_empty() {
                out.push(format!("{}text", line));
            } else {
                out.push(line.clone());
            }
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            let indented = line.starts_with("    ") || line.starts_with('\t');
            let prev_blank = i == 0 || lines[i - 1].trim().is_empty();
            if indented && !in_indented && prev_blank {
                out.push("```text".to_owned());
                in_indented = true;
            } else if in_indented && !indented && !line.trim().is_empty() {
                out.push("```".to_owned());
                in_indented = false;
            }
        }
        out.push(line.clone());
    }
    if in_indented || in_fence {
        while out.last().is_some_and(|l| l.trim().is_empty()) {
            out.pop();
        }
        out.push("```".to_owned());
    }
    out.into_iter()
        .map(|l| if l.is_empty() { l } else { format!(" {l}") })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_code() {
        let lines = doc_lines(
            " Gets a value.\n\n Example:\n\n     get(\"k\") // returns v\n\n ```\n x\n ```\n // not a comment\n",
        );
        assert_eq!(
            lines,
            vec![
                " Gets a value.",
                "",
                " Example:",
                "",
                " ```text",
                "     get(\"k\") // returns v",
                "",
                " ```",
                " ```text",
                " x",
                " ```",
                " // not a comment",
            ]
        );
    }

    #[test]
    fn fenced_with_language_is_kept() {
        assert_eq!(
            doc_lines(" ```json\n {}\n ```"),
            vec![" ```json", " {}", " ```"]
        );
    }
}
