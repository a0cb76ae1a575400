//! CSV answers (the conversions export), read by row and by column name.

/// The rows of a CSV answer, the header row first.
pub fn rows(body: &str) -> Vec<csv::StringRecord> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.expect("a CSV row"))
        .collect()
}

/// The value of `column` in `row` (by the header row).
pub fn cell<'a>(rows: &'a [csv::StringRecord], row: usize, column: &str) -> &'a str {
    let i = rows[0].iter().position(|h| h == column).expect(column);
    &rows[row][i]
}
