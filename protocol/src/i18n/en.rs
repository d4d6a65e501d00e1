use super::Strings;

pub(super) static STRINGS: Strings = Strings {
    lang: "en",
    rtl: false,
    dialog: "Quick survey",
    question: [
        "How likely are you to recommend ",
        " to a friend or colleague?",
    ],
    low: "Not at all likely",
    high: "Extremely likely",
    promoter: "Great to hear! What do you like most?",
    passive: "Thanks! What would make it a 10?",
    detractor: "Sorry to hear that. What went wrong?",
    placeholder: "Tell us more (optional)",
    contact: "You may contact me about this",
    review: "Share it in a review",
    send: "Send",
    thanks: "Thank you for your feedback!",
    close: "Close",
    brand_fallback: "us",
};
