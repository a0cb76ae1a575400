//! Every row of `tests/vectors/normalisation.json` (the file the tag's tests read too), checked
//! against Meta's and TikTok's digests. The expected digests there were computed with
//! `sha256sum`, not with this code.

use serde::Deserialize;

use super::{Country, CustomerData, CustomerField, DateOrder, Region};

#[derive(Deserialize)]
struct File {
    rows: Vec<Row>,
}

#[derive(Deserialize)]
struct Row {
    field: String,
    input: String,
    country: Option<String>,
    date_order: Option<String>,
    expected_normalised: Option<String>,
    expected_sha256: Option<String>,
    /// Absent: TikTok's digest is Meta's (or the field is not sent to TikTok).
    #[serde(default, deserialize_with = "present")]
    tiktok_sha256: Option<Option<String>>,
    source: String,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[test]
fn every_vector_row_holds() {
    let file: File =
        serde_json::from_str(include_str!("../../../tests/vectors/normalisation.json")).unwrap();
    assert!(file.rows.len() >= 50);
    for r in &file.rows {
        let at = format!(
            "{} {:?} ({:?}, {:?})",
            r.field, r.input, r.country, r.date_order
        );
        assert!(!r.source.is_empty(), "{at}: no source");
        let field = CustomerField::ALL
            .into_iter()
            .find(|f| f.name() == r.field)
            .unwrap_or_else(|| panic!("{at}: unknown field"));
        let region = Region::new(
            r.country
                .as_deref()
                .map(|c| Country::parse_code(c).unwrap()),
            r.date_order
                .as_deref()
                .map(|o| DateOrder::parse(o).unwrap()),
        );
        let digest = field.hash(&r.input, &region);
        let digest = digest.map(|d| d.map(|h| h.as_str().to_owned()));
        match &r.expected_sha256 {
            Some(expected) => assert_eq!(digest, Ok(Some(expected.clone())), "{at}"),
            None => assert!(digest.is_err(), "{at}: kept as {digest:?}"),
        }
        if let Some(normalised) = &r.expected_normalised {
            assert_eq!(
                field.normalise(&r.input, &region).as_ref(),
                Ok(normalised),
                "{at}"
            );
        }
        let mut data = CustomerData::default();
        let set = data.set_raw(field, &r.input, &region);
        assert_eq!(set.is_ok(), r.expected_sha256.is_some(), "{at}");
        let tiktok = match field {
            CustomerField::Ph => data.tiktok_ph(),
            CustomerField::ExternalId => data.tiktok_external_id(),
            _ => continue,
        };
        if let Some(expected) = &r.tiktok_sha256 {
            assert_eq!(
                tiktok.map(|h| h.as_str()),
                expected.as_deref(),
                "{at}: TikTok"
            );
        }
    }
}

/// Meta's published vectors, as docs/reference/meta-capi.md quotes them, are rows of the file:
/// the table's input, normalised value and digest (backquoted, in that order) match a row.
#[test]
fn metas_published_vectors_are_rows() {
    let file: File =
        serde_json::from_str(include_str!("../../../tests/vectors/normalisation.json")).unwrap();
    let doc = include_str!("../../../docs/reference/meta-capi.md");
    let table = doc.split("### Meta's test vectors").nth(1).unwrap();
    let quoted = |line: &str| -> Vec<String> {
        line.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect()
    };
    let published: Vec<Vec<String>> = table
        .lines()
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| `"))
        .map(quoted)
        .collect();
    assert_eq!(published.len(), 4, "{published:?}");
    for triple in &published {
        let [input, normalised, digest] = &triple[..] else {
            panic!("{triple:?}");
        };
        assert!(
            file.rows.iter().any(|r| r.source == "meta docs"
                && &r.input == input
                && r.expected_normalised.as_ref() == Some(normalised)
                && r.expected_sha256.as_ref() == Some(digest)),
            "{triple:?} is no row of the vectors"
        );
    }
}
