use super::Strings;

pub(super) static STRINGS: Strings = Strings {
    lang: "de",
    rtl: false,
    dialog: "Kurze Umfrage",
    question: [
        "Wie wahrscheinlich ist es, dass Sie ",
        " einem Freund oder Kollegen empfehlen?",
    ],
    low: "Sehr unwahrscheinlich",
    high: "Sehr wahrscheinlich",
    promoter: "Das freut uns! Was gefällt Ihnen am besten?",
    passive: "Danke! Was würde es zu einer 10 machen?",
    detractor: "Das tut uns leid. Was ist schiefgelaufen?",
    placeholder: "Erzählen Sie uns mehr (optional)",
    contact: "Sie dürfen mich dazu kontaktieren",
    review: "Bewertung schreiben",
    send: "Senden",
    thanks: "Vielen Dank für Ihr Feedback!",
    close: "Schließen",
    brand_fallback: "uns",
};
