//! The host's own words for capability prompts, in the languages the merchant help centre is
//! published in. Every scope and topic has text in every language: a missing translation is a
//! compile error (exhaustive matches), never a silent fallback to English.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::grants::Scope;
use crate::topics::Topic;

/// A language prompts are written in.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// English.
    #[default]
    En,
    /// Hindi (हिंदी).
    Hi,
    /// Assamese (অসমীয়া).
    As,
}

impl Language {
    /// Every supported language.
    pub const ALL: [Language; 3] = [Language::En, Language::Hi, Language::As];

    /// The ISO 639-1 code.
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Hi => "hi",
            Language::As => "as",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Language::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| format!("unknown language `{s}`; prompts are available in en, hi, as"))
    }
}

/// What a scope grants, as (title, what it covers).
pub(crate) fn scope(scope: Scope, lang: Language) -> (&'static str, &'static str) {
    use Language::*;
    use Scope::*;
    match (scope, lang) {
        (OrdersRead, En) => (
            "See your orders",
            "order numbers, items, totals, payment and shipping status",
        ),
        (OrdersRead, Hi) => (
            "आपके ऑर्डर देखना",
            "ऑर्डर नंबर, आइटम, कुल राशि, भुगतान और शिपिंग की स्थिति",
        ),
        (OrdersRead, As) => (
            "আপোনাৰ অৰ্ডাৰবোৰ চোৱা",
            "অৰ্ডাৰ নম্বৰ, সামগ্ৰী, মুঠ মূল্য, পৰিশোধ আৰু প্ৰেৰণৰ স্থিতি",
        ),
        (OrdersWrite, En) => (
            "Change your orders' payment and shipping status",
            "mark orders paid, refunded, fulfilled or cancelled",
        ),
        (OrdersWrite, Hi) => (
            "आपके ऑर्डर की भुगतान और शिपिंग स्थिति बदलना",
            "ऑर्डर को भुगतान हुआ, रिफ़ंड हुआ, पूरा हुआ या रद्द के रूप में चिह्नित करना",
        ),
        (OrdersWrite, As) => (
            "আপোনাৰ অৰ্ডাৰৰ পৰিশোধ আৰু প্ৰেৰণৰ স্থিতি সলনি কৰা",
            "অৰ্ডাৰক পৰিশোধিত, ধন ঘূৰাই দিয়া, সম্পূৰ্ণ বা বাতিল বুলি চিহ্নিত কৰা",
        ),
        (CustomersRead, En) => (
            "See your customers, without contact details",
            "customer ids, order counts and marketing consent",
        ),
        (CustomersRead, Hi) => (
            "आपके ग्राहकों को देखना, संपर्क विवरण के बिना",
            "ग्राहक आईडी, ऑर्डर की संख्या और मार्केटिंग की सहमति",
        ),
        (CustomersRead, As) => (
            "আপোনাৰ গ্ৰাহকসকলক চোৱা, যোগাযোগৰ বিৱৰণ নোহোৱাকৈ",
            "গ্ৰাহকৰ আইডি, অৰ্ডাৰৰ সংখ্যা আৰু বিপণনৰ সন্মতি",
        ),
        (CustomersReadContact, En) => (
            "See your customers' contact details",
            "names, email addresses, phone numbers and postal addresses",
        ),
        (CustomersReadContact, Hi) => (
            "आपके ग्राहकों के संपर्क विवरण देखना",
            "नाम, ईमेल पते, फ़ोन नंबर और डाक पते",
        ),
        (CustomersReadContact, As) => (
            "আপোনাৰ গ্ৰাহকসকলৰ যোগাযোগৰ বিৱৰণ চোৱা",
            "নাম, ইমেইল ঠিকনা, ফোন নম্বৰ আৰু ডাক ঠিকনা",
        ),
        (InventoryRead, En) => (
            "See your stock levels",
            "SKUs, product titles and units available",
        ),
        (InventoryRead, Hi) => ("आपका स्टॉक देखना", "SKU, उत्पादों के नाम और उपलब्ध इकाइयाँ"),
        (InventoryRead, As) => ("আপোনাৰ মজুতৰ পৰিমাণ চোৱা", "SKU, সামগ্ৰীৰ নাম আৰু উপলব্ধ গোট"),
        (InventoryWrite, En) => ("Change your stock levels", "add or remove available units"),
        (InventoryWrite, Hi) => ("आपका स्टॉक बदलना", "उपलब्ध इकाइयाँ जोड़ना या घटाना"),
        (InventoryWrite, As) => ("আপোনাৰ মজুতৰ পৰিমাণ সলনি কৰা", "উপলব্ধ গোট যোগ কৰা বা আঁতৰোৱা"),
    }
}

/// When the app will be told, as a clause.
pub(crate) fn topic(topic: Topic, lang: Language) -> &'static str {
    use Language::*;
    use Topic::*;
    match (topic, lang) {
        (OrderCreated, En) => "a customer places an order",
        (OrderCreated, Hi) => "कोई ग्राहक ऑर्डर देता है",
        (OrderCreated, As) => "গ্ৰাহকে অৰ্ডাৰ দিয়ে",
        (OrderPaid, En) => "an order is paid",
        (OrderPaid, Hi) => "किसी ऑर्डर का भुगतान होता है",
        (OrderPaid, As) => "অৰ্ডাৰৰ পৰিশোধ হয়",
        (OrderFulfilled, En) => "an order is shipped",
        (OrderFulfilled, Hi) => "कोई ऑर्डर भेजा जाता है",
        (OrderFulfilled, As) => "অৰ্ডাৰ পঠিওৱা হয়",
        (OrderCancelled, En) => "an order is cancelled",
        (OrderCancelled, Hi) => "कोई ऑर्डर रद्द होता है",
        (OrderCancelled, As) => "অৰ্ডাৰ বাতিল হয়",
        (CustomerCreated, En) => "a customer account is created",
        (CustomerCreated, Hi) => "कोई ग्राहक खाता बनता है",
        (CustomerCreated, As) => "গ্ৰাহকৰ একাউণ্ট খোলা হয়",
        (InventoryChanged, En) => "a stock level changes",
        (InventoryChanged, Hi) => "किसी स्टॉक में बदलाव होता है",
        (InventoryChanged, As) => "মজুতৰ পৰিমাণ সলনি হয়",
        (AppInstalled, En) => "another app is connected to your store",
        (AppInstalled, Hi) => "आपके स्टोर से कोई दूसरा ऐप जुड़ता है",
        (AppInstalled, As) => "আপোনাৰ ষ্টোৰত আন এটা এপ সংযোগ হয়",
        (AppUninstalled, En) => "another app is disconnected from your store",
        (AppUninstalled, Hi) => "आपके स्टोर से कोई दूसरा ऐप हटाया जाता है",
        (AppUninstalled, As) => "আপোনাৰ ষ্টোৰৰ পৰা আন এটা এপ আঁতৰোৱা হয়",
    }
}

/// The fixed phrases of a rendered prompt.
pub(crate) struct Phrases {
    /// `{name} {version} by {publisher}` wants access; placeholders filled by the renderer.
    /// Publisher text is always quoted and never starts a line, so it cannot pass for a line
    /// the host wrote.
    pub wants: &'static str,
    pub required: &'static str,
    pub optional: &'static str,
    pub publisher_says: &'static str,
    pub can_change: &'static str,
    pub personal: &'static str,
    pub told_when: &'static str,
    pub connects: &'static str,
    pub keys: &'static str,
    /// `{origins}` filled by the renderer: a key only Airlock sees.
    pub attached: &'static str,
    /// `{origins}` filled by the renderer: a key Airlock attaches and the app can read too.
    pub attached_readable: &'static str,
    pub readable: &'static str,
    /// `{key}` (the verified publisher key, hex) filled by the renderer.
    pub signed: &'static str,
    pub unsigned: &'static str,
}

pub(crate) fn phrases(lang: Language) -> Phrases {
    match lang {
        Language::En => Phrases {
            wants: "\"{name}\" {version} by \"{publisher}\" wants access to your store.",
            required: "Required (all must be approved):",
            optional: "Optional (choose each):",
            publisher_says: "the publisher says",
            can_change: "CAN CHANGE DATA",
            personal: "PERSONAL DATA",
            told_when: "It will be told when:",
            connects: "It will send data to these servers (approving the app approves them):",
            keys: "It uses these keys you provide (stored encrypted):",
            attached: "attached by Airlock only to requests to {origins}; the app never sees it",
            attached_readable: "attached by Airlock only to requests to {origins}",
            readable: "THE APP CAN READ THIS KEY",
            signed: "Signed with the publisher's registered key {key}.",
            unsigned: "NOT SIGNED: nothing proves who built this app.",
        },
        Language::Hi => Phrases {
            wants: "\"{publisher}\" का \"{name}\" {version} आपके स्टोर तक पहुँच माँग रहा है।",
            required: "ज़रूरी (सभी को मंज़ूरी देनी होगी):",
            optional: "वैकल्पिक (हर एक अलग से चुनें):",
            publisher_says: "प्रकाशक का कहना है",
            can_change: "डेटा बदल सकता है",
            personal: "व्यक्तिगत डेटा",
            told_when: "इसे तब सूचना मिलेगी जब:",
            connects: "यह इन सर्वरों को डेटा भेजेगा (ऐप को मंज़ूरी देने से ये भी मंज़ूर होंगे):",
            keys: "यह आपकी दी हुई इन कुंजियों का उपयोग करता है (एन्क्रिप्ट करके रखी जाती हैं):",
            attached: "Airlock इसे केवल {origins} को जाने वाले अनुरोधों में जोड़ता है; ऐप इसे कभी नहीं देखता",
            attached_readable: "Airlock इसे केवल {origins} को जाने वाले अनुरोधों में जोड़ता है",
            readable: "ऐप इस कुंजी को पढ़ सकता है",
            signed: "प्रकाशक की पंजीकृत कुंजी {key} से हस्ताक्षरित।",
            unsigned: "हस्ताक्षर नहीं: कुछ भी साबित नहीं करता कि यह ऐप किसने बनाया।",
        },
        Language::As => Phrases {
            wants: "\"{publisher}\"ৰ \"{name}\" {version}-এ আপোনাৰ দোকানলৈ প্ৰৱেশাধিকাৰ বিচাৰিছে।",
            required: "আৱশ্যকীয় (সকলোবোৰ অনুমোদন কৰিব লাগিব):",
            optional: "ঐচ্ছিক (প্ৰতিটো বেলেগে বাছক):",
            publisher_says: "প্ৰকাশকে কয়",
            can_change: "তথ্য সলনি কৰিব পাৰে",
            personal: "ব্যক্তিগত তথ্য",
            told_when: "ইয়াক খবৰ দিয়া হ'ব যেতিয়া:",
            connects: "ই এই চাৰ্ভাৰবোৰলৈ তথ্য পঠিয়াব (এপটো অনুমোদন কৰিলে এইবোৰো অনুমোদিত হ'ব):",
            keys: "ই আপুনি দিয়া এই চাবিবোৰ ব্যৱহাৰ কৰে (এনক্ৰিপ্ট কৰি ৰখা হয়):",
            attached: "Airlock-এ ইয়াক কেৱল {origins}লৈ যোৱা অনুৰোধত সংলগ্ন কৰে; এপটোৱে ইয়াক কেতিয়াও নেদেখে",
            attached_readable: "Airlock-এ ইয়াক কেৱল {origins}লৈ যোৱা অনুৰোধত সংলগ্ন কৰে",
            readable: "এপটোৱে এই চাবি পঢ়িব পাৰে",
            signed: "প্ৰকাশকৰ পঞ্জীভুক্ত চাবি {key}ৰে স্বাক্ষৰিত।",
            unsigned: "স্বাক্ষৰ নাই: এই এপটো কোনে বনাইছে তাৰ কোনো প্ৰমাণ নাই।",
        },
    }
}
