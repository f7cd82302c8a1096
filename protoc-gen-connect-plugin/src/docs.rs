//! Proto comments to rustdoc. No code block of a proto comment becomes a doctest (it could
//! not compile in the user's crate): fenced blocks (``` or ~~~) without a language and
//! indented blocks become `text` blocks, and blocks rustdoc would take for Rust (`rust`,
//! `no_run`, ...) get `ignore`. Lines starting with `/` keep a leading space (`////` is a
//! plain comment, not documentation). In prose (outside code), a `<` is escaped unless it
//! opens a link (`<https://…>`), so `List<Item>` stays text rather than an HTML tag, and a
//! bare URL becomes a link (`<https://…>`), as rustdoc asks.

/// An opening code fence: its character, its length, and the info string after it.
fn fence(trimmed: &str) -> Option<(char, usize, &str)> {
    let c = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.chars().take_while(|x| *x == c).count();
    let info = trimmed[len..].trim();
    // A backtick fence's info string has no backtick: "```a``` b" is inline code.
    (len >= 3 && !(c == '`' && info.contains('`'))).then_some((c, len, info))
}

/// Whether rustdoc would compile a fenced block with this info string as a doctest: no
/// language, `rust`, or only rustdoc's own attributes (`no_run`, `should_panic`, ...).
fn is_rust(info: &str) -> bool {
    let tokens: Vec<&str> = info
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    tokens.contains(&"rust")
        || tokens.iter().all(|t| {
            matches!(
                *t,
                "ignore"
                    | "should_panic"
                    | "no_run"
                    | "compile_fail"
                    | "test_harness"
                    | "standalone_crate"
            ) || t.starts_with("edition")
                || t.starts_with("ignore-")
        })
}

/// The opening fence line to write for one read from a proto comment.
fn opening(line: &str, c: char, len: usize, info: &str) -> String {
    let indent = &line[..line.len() - line.trim_start().len()];
    let marks: String = std::iter::repeat_n(c, len).collect();
    if info.is_empty() {
        format!("{indent}{marks}text")
    } else if is_rust(info)
        && !info
            .split(|c: char| c == ',' || c.is_whitespace())
            .any(|t| t == "ignore")
    {
        format!("{indent}{marks}{info},ignore")
    } else {
        line.to_owned()
    }
}

/// A line of prose as rustdoc should read it: outside inline code spans, `<` escaped unless
/// it opens an autolink, bare `http(s)://` URLs wrapped in `<…>`.
fn prose(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    // Alternating outside / inside inline code spans (`…`), split on backtick runs.
    let mut rest = line;
    let mut in_code: Option<usize> = None;
    while !rest.is_empty() {
        let ticks = rest.find('`').unwrap_or(rest.len());
        let (text, after) = rest.split_at(ticks);
        match in_code {
            Some(_) => out.push_str(text),
            None => out.push_str(&prose_text(text)),
        }
        if after.is_empty() {
            break;
        }
        let run = after.chars().take_while(|c| *c == '`').count();
        out.push_str(&after[..run]);
        in_code = match in_code {
            // A span closes on a run of the same length.
            Some(n) if n == run => None,
            Some(n) => Some(n),
            // It opens only if a closing run follows.
            None if after[run..].contains(&"`".repeat(run)) => Some(run),
            None => None,
        };
        rest = &after[run..];
    }
    out
}

/// [`prose`] on text outside code spans.
fn prose_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        let url = rest.starts_with("https://") || rest.starts_with("http://");
        if let Some(target) = rest.strip_prefix('<') {
            if target.starts_with("https://") || target.starts_with("http://") {
                // An autolink already: copy it whole.
                let end = rest.find('>').map_or(rest.len(), |e| e + 1);
                out.push_str(&rest[..end]);
                i += end;
                continue;
            }
            out.push_str("\\<");
            i += 1;
        } else if url && !out.ends_with('(') {
            let len = rest
                .find(|c: char| c.is_whitespace() || c == '<' || c == '>')
                .unwrap_or(rest.len());
            // Sentence punctuation after a URL is not part of it.
            let url = rest[..len].trim_end_matches(['.', ',', ';', ':', ')', '!', '?', '"', '\'']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            i += url.len();
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

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
    // The open fence's character and length.
    let mut open: Option<(char, usize)> = None;
    let mut in_indented = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if let Some((c, len, info)) = fence(trimmed) {
            match open {
                None => {
                    if in_indented {
                        out.push("```".to_owned());
                        in_indented = false;
                    }
                    out.push(opening(line, c, len, info));
                    open = Some((c, len));
                    continue;
                }
                // A closing fence: the same character, at least as long, nothing after.
                Some((oc, olen)) if oc == c && len >= olen && info.is_empty() => {
                    out.push(line.clone());
                    open = None;
                    continue;
                }
                Some(_) => {}
            }
        }
        if open.is_none() {
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
        if open.is_none() && !in_indented {
            out.push(prose(line));
        } else {
            out.push(line.clone());
        }
    }
    if in_indented || open.is_some() {
        while out.last().is_some_and(|l| l.trim().is_empty()) {
            out.pop();
        }
        let (c, len) = open.unwrap_or(('`', 3));
        out.push(std::iter::repeat_n(c, len).collect());
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
    fn prose_escapes_tags_and_links_bare_urls_but_not_code() {
        assert_eq!(
            doc_lines(" A List<Item>, see https://example.com/a//b. Or <https://x.y>."),
            vec![r" A List\<Item>, see <https://example.com/a//b>. Or <https://x.y>."]
        );
        assert_eq!(
            doc_lines(" Code `Vec<u8>` and ``a ` <b>`` stay; [docs](https://d.e) too."),
            vec![" Code `Vec<u8>` and ``a ` <b>`` stay; [docs](https://d.e) too."]
        );
        // An unmatched backtick opens no span.
        assert_eq!(doc_lines(" a ` <b>"), vec![r" a ` \<b>"]);
        // Code blocks are left alone.
        assert_eq!(
            doc_lines(" ```json\n {\"a\": \"<b> https://c\"}\n ```"),
            vec![" ```json", " {\"a\": \"<b> https://c\"}", " ```"]
        );
    }

    #[test]
    fn fenced_with_language_is_kept() {
        assert_eq!(
            doc_lines(" ```json\n {}\n ```"),
            vec![" ```json", " {}", " ```"]
        );
    }

    #[test]
    fn tilde_fences_are_fences() {
        // Inside a ~~~ block a ``` line is content, and the block ends at ~~~ only.
        assert_eq!(
            doc_lines(" ~~~\n x()\n ```\n ~~~\n after"),
            vec![" ~~~text", " x()", " ```", " ~~~", " after"]
        );
        assert_eq!(
            doc_lines(" ~~~~ yaml\n a: 1\n ~~~\n ~~~~"),
            vec![" ~~~~ yaml", " a: 1", " ~~~", " ~~~~"]
        );
    }

    #[test]
    fn inline_code_is_not_a_fence() {
        assert_eq!(
            doc_lines(" ```inline``` code\n\n     indented"),
            vec![
                " ```inline``` code",
                "",
                " ```text",
                "     indented",
                " ```"
            ]
        );
    }

    #[test]
    fn rust_blocks_are_not_doctests() {
        assert_eq!(
            doc_lines(" ```rust\n f();\n ```"),
            vec![" ```rust,ignore", " f();", " ```"]
        );
        assert_eq!(doc_lines(" ```no_run\n f();\n ```")[0], " ```no_run,ignore");
        assert_eq!(
            doc_lines(" ```rust,ignore\n f();\n ```")[0],
            " ```rust,ignore"
        );
        assert_eq!(doc_lines(" ```text\n f();\n ```")[0], " ```text");
        // An unclosed fence is closed with its own kind.
        assert_eq!(
            doc_lines(" ~~~rust\n f();\n"),
            vec![" ~~~rust,ignore", " f();", " ~~~"]
        );
    }
}
