use super::ParseError;

/// ISO 4217 alphabetic codes in current use. Meta refuses the whole request for an unknown
/// currency, so an unknown code is refused here, at the door, with a readable message.
const ISO_4217: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB \
BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD \
FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR \
KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR \
MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK \
SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS \
VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG ZWL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency([u8; 3]);

impl Currency {
    pub const USD: Currency = Currency(*b"USD");

    /// Accepts any case (`usd`), stores upper case.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let upper = s.trim().to_ascii_uppercase();
        if upper.len() == 3
            && upper.bytes().all(|b| b.is_ascii_uppercase())
            && ISO_4217.split(' ').any(|c| c == upper)
        {
            let b = upper.as_bytes();
            Ok(Currency([b[0], b[1], b[2]]))
        } else {
            Err(ParseError::new(
                "must be an ISO 4217 currency code such as USD or EUR",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ever built from three ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("USD")
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes() {
        assert_eq!(Currency::parse("eur").unwrap().as_str(), "EUR");
        assert_eq!(Currency::parse(" USD ").unwrap(), Currency::USD);
        for bad in ["", "US", "USDT", "XYZ", "€€€"] {
            assert!(Currency::parse(bad).is_err(), "{bad:?}");
        }
    }
}
