//! `{{secret:NAME}}` placeholders in header values: parsed once, when the request is checked,
//! and filled by the host just before it is sent, so the connector never holds the value.

/// Where a placeholder starts.
pub(super) const PLACEHOLDER: &str = "{{secret:";

/// One piece of a header value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Secret(String),
}

/// A header value with secret placeholders, parsed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    parts: Vec<Part>,
}

/// A placeholder opened and never closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Malformed;

impl Template {
    /// Parse `value`; `Ok(None)` when it holds no placeholder.
    pub(super) fn parse(value: &str) -> Result<Option<Template>, Malformed> {
        let mut parts = Vec::new();
        let mut rest = value;
        while let Some(start) = rest.find(PLACEHOLDER) {
            let after = &rest[start + PLACEHOLDER.len()..];
            let end = after.find("}}").ok_or(Malformed)?;
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            parts.push(Part::Secret(after[..end].to_owned()));
            rest = &after[end + 2..];
        }
        if parts.is_empty() {
            return Ok(None);
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Some(Template { parts }))
    }

    /// The secret names it refers to, in order.
    pub(super) fn names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Secret(name) => Some(name.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The value with each placeholder replaced by `value_of` its name; `None` when a name
    /// has no value.
    pub(super) fn render<'a>(&self, value_of: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
        let mut out = String::with_capacity(64);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Secret(name) => out.push_str(value_of(name)?),
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(value: &str) -> Result<Vec<String>, Malformed> {
        Ok(Template::parse(value)?
            .map(|t| t.names().map(str::to_owned).collect())
            .unwrap_or_default())
    }

    #[test]
    fn placeholders_are_found_and_malformed_ones_refused() {
        assert_eq!(
            names("Bearer {{secret:gateway_key}}"),
            Ok(vec!["gateway_key".to_owned()])
        );
        assert_eq!(
            names("{{secret:a}}:{{secret:b}}"),
            Ok(vec!["a".to_owned(), "b".to_owned()])
        );
        assert_eq!(names("no secrets here"), Ok(vec![]));
        assert_eq!(names("Bearer {{secret:open"), Err(Malformed));
    }

    #[test]
    fn a_template_renders_its_text_around_the_values() {
        let t = Template::parse("Bearer {{secret:a}}.{{secret:b}}!")
            .unwrap()
            .unwrap();
        let value = |name: &str| match name {
            "a" => Some("AAA"),
            "b" => Some("BBB"),
            _ => None,
        };
        assert_eq!(t.render(value).as_deref(), Some("Bearer AAA.BBB!"));
        let missing = Template::parse("{{secret:c}}").unwrap().unwrap();
        assert_eq!(missing.render(value), None);
    }
}
