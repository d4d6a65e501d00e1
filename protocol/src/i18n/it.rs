use super::Strings;

pub(super) static STRINGS: Strings = Strings {
    lang: "it",
    rtl: false,
    dialog: "Breve sondaggio",
    question: [
        "Quanto è probabile che consigli ",
        " a un amico o a un collega?",
    ],
    low: "Per niente probabile",
    high: "Estremamente probabile",
    promoter: "Che bello! Cosa ti piace di più?",
    passive: "Grazie! Cosa lo renderebbe un 10?",
    detractor: "Ci dispiace. Cosa è andato storto?",
    placeholder: "Raccontaci di più (facoltativo)",
    contact: "Potete contattarmi in merito",
    review: "Scrivi una recensione",
    send: "Invia",
    thanks: "Grazie per il tuo feedback!",
    close: "Chiudi",
    brand_fallback: "il nostro sito",
};
