use super::Strings;

pub(super) static STRINGS: Strings = Strings {
    lang: "ar",
    rtl: true,
    dialog: "استطلاع سريع",
    question: ["ما مدى احتمال أن توصي بـ ", " لصديق أو زميل؟"],
    low: "غير محتمل إطلاقًا",
    high: "محتمل جدًا",
    promoter: "يسعدنا ذلك! ما الذي يعجبك أكثر؟",
    passive: "شكرًا! ما الذي يجعلها 10؟",
    detractor: "نأسف لذلك. ما الذي حدث بشكل خاطئ؟",
    placeholder: "أخبرنا المزيد (اختياري)",
    contact: "يمكنكم التواصل معي بخصوص هذا",
    review: "اكتب تقييمًا",
    send: "إرسال",
    thanks: "شكرًا لملاحظاتك!",
    close: "إغلاق",
    brand_fallback: "موقعنا",
};
