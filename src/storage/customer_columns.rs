//! The hashed customer columns shared by the clicks and conversions tables.

use crate::domain::CustomerData;

/// `em` ... `external_id` as stored: SHA-256 hex digests (a CHECK constraint refuses anything
/// else).
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerColumns {
    pub em: Option<String>,
    pub ph: Option<String>,
    #[sqlx(rename = "fn")]
    pub fn_: Option<String>,
    pub ln: Option<String>,
    pub ge: Option<String>,
    pub db: Option<String>,
    pub ct: Option<String>,
    pub st: Option<String>,
    pub zp: Option<String>,
    pub country: Option<String>,
    pub external_id: Option<String>,
}

impl CustomerColumns {
    pub fn data(&self) -> CustomerData {
        CustomerData::from_columns([
            self.em.clone(),
            self.ph.clone(),
            self.fn_.clone(),
            self.ln.clone(),
            self.ge.clone(),
            self.db.clone(),
            self.ct.clone(),
            self.st.clone(),
            self.zp.clone(),
            self.country.clone(),
            self.external_id.clone(),
        ])
    }

    pub fn from_data(d: &CustomerData) -> Self {
        let [em, ph, fn_, ln, ge, db, ct, st, zp, country, external_id] = d.to_columns();
        CustomerColumns {
            em,
            ph,
            fn_,
            ln,
            ge,
            db,
            ct,
            st,
            zp,
            country,
            external_id,
        }
    }
}
