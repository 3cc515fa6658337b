//! The internet reception: what the utility's website shows without a login (outages by
//! postcode, frequent questions) and the appeals visitors send, which become tickets; served
//! by [`http`].

pub mod http;

use serde::Serialize;

use crate::clock::Timestamp;
use crate::outages::{Incident, PlannedOutage};
use crate::settlements::{Postcode, Settlement};
use crate::store::{SettlementQuery, Store, StoreError};

/// How far ahead the public schedule reaches.
const PUBLIC_HORIZON_S: i64 = 14 * 24 * 3600;

#[derive(Serialize, utoipa::ToSchema)]
pub struct SettlementOutages {
    settlement: Settlement,
    planned: Vec<PlannedOutage>,
    incident: Option<Incident>,
}

/// Each settlement with `postcode`: its planned outages of the public horizon and its open incident.
pub async fn outages_by_postcode(
    store: &Store,
    postcode: &Postcode,
    now: Timestamp,
) -> Result<Vec<SettlementOutages>, StoreError> {
    let mut out = Vec::new();
    let query = SettlementQuery { postcode: Some(postcode.as_str().to_string()), name: None };
    for settlement in store.find_settlements(&query).await? {
        let planned = store.planned_outages(Some(settlement.id), None, now, now.plus_seconds(PUBLIC_HORIZON_S)).await?;
        let incident = store.open_incident(settlement.id).await?;
        out.push(SettlementOutages { settlement, planned, incident });
    }
    Ok(out)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Faq {
    question: &'static str,
    answer: &'static str,
}

/// The questions people ask most, answered in a sentence or two.
pub const FAQ: &[Faq] = &[
    Faq {
        question: "Нет света. Что делать?",
        answer: "Проверьте вводной автомат и есть ли свет у соседей. Если света нет у всех — позвоните 8-800-50-50-115 (бесплатно, круглосуточно) или оставьте обращение на сайте.",
    },
    Faq {
        question: "Вижу оборванный провод.",
        answer: "Не подходите ближе восьми метров и не подпускайте других. Сразу позвоните 8-800-50-50-115 и нажмите 1; если кто-то пострадал — 112.",
    },
    Faq {
        question: "Как узнать о плановых отключениях?",
        answer: "Введите почтовый индекс на этой странице или позвоните на горячую линию и нажмите 3.",
    },
    Faq {
        question: "Как подать заявку на технологическое присоединение?",
        answer: "В личном кабинете на сайте или в центре обслуживания клиентов. Для граждан до 15 кВт срок — до 4 месяцев в городе и до 6 месяцев в остальных случаях.",
    },
    Faq {
        question: "Как сообщить о хищении электроэнергии?",
        answer: "Позвоните на горячую линию и нажмите 5 или оставьте обращение на сайте. Называть себя не обязательно.",
    },
];

/// What makes two texts "the same" for the repeat check: letters in one case and runs of
/// white space as one, so a resubmission with a stray space or capital is still recognised.
pub fn text_digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    hex::encode(Sha256::digest(folded.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_differing_in_spaces_or_case_are_the_same_text() {
        assert_eq!(text_digest("Нет света  на ул. Ленина\n"), text_digest("нет света на УЛ. ленина"));
        assert_ne!(text_digest("Нет света на ул. Ленина"), text_digest("Нет света на ул. Мира"));
    }
}
