//! What the merchant checks when an integration stops working: the help-centre article's lists
//! (payment, logistics, WhatsApp, and what to check first, verbatim in English), lists in the
//! same style for analytics, ads and marketplaces, and their translations (exhaustive matches:
//! a missing translation does not compile).

use serde::Serialize;

use crate::manifest::ConnectorKind;
use crate::prompt_text::Language;

/// A titled list of things to check, with an optional note on what to do meanwhile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Checklist {
    /// The list's heading.
    pub title: &'static str,
    /// The things to check, most likely first.
    pub items: Vec<&'static str>,
    /// What to do (or not do) while the issue lasts.
    pub note: Option<&'static str>,
}

fn list(title: &'static str, items: &[&'static str], note: Option<&'static str>) -> Checklist {
    Checklist {
        title,
        items: items.to_vec(),
        note,
    }
}

/// What to check for an integration of `kind`.
pub fn checklist(kind: ConnectorKind, lang: Language) -> Checklist {
    use ConnectorKind::*;
    use Language::*;
    match (kind, lang) {
        (Payment, En) => list(
            "If a payment integration stops working",
            &[
                "Check payment gateway dashboard",
                "Check account status and KYC status",
                "Review settlement or compliance alerts",
                "Verify API keys or credentials",
                "Check payment methods enabled",
                "Review checkout configuration",
                "Check failed transaction reason",
                "Check for provider downtime",
            ],
            Some(
                "Do not fulfil unpaid orders unless payment is verified or another approved payment method is arranged.",
            ),
        ),
        (Payment, Hi) => list(
            "अगर पेमेंट इंटीग्रेशन काम करना बंद कर दे",
            &[
                "पेमेंट गेटवे का डैशबोर्ड देखें",
                "खाते की स्थिति और KYC की स्थिति देखें",
                "सेटलमेंट या अनुपालन से जुड़ी सूचनाएँ देखें",
                "API कुंजियाँ या क्रेडेंशियल जाँचें",
                "चालू किए गए भुगतान के तरीके देखें",
                "चेकआउट की सेटिंग जाँचें",
                "विफल लेनदेन का कारण देखें",
                "देखें कि प्रोवाइडर की सेवा बंद तो नहीं है",
            ],
            Some(
                "जब तक भुगतान की पुष्टि न हो जाए या भुगतान का कोई दूसरा मंज़ूर तरीका तय न हो, बिना भुगतान वाले ऑर्डर पूरे न करें।",
            ),
        ),
        (Payment, As) => list(
            "পেমেণ্ট ইণ্টিগ্ৰেচনে কাম কৰা বন্ধ কৰিলে",
            &[
                "পেমেণ্ট গেটৱেৰ ডেশ্বব'ৰ্ড চাওক",
                "একাউণ্টৰ স্থিতি আৰু KYC স্থিতি চাওক",
                "চেটলমেণ্ট বা অনুপালন সম্পৰ্কীয় সতৰ্কবাণী চাওক",
                "API চাবি বা ক্ৰেডেনচিয়েল পৰীক্ষা কৰক",
                "সক্ৰিয় কৰা পৰিশোধৰ পদ্ধতিবোৰ চাওক",
                "চেকআউটৰ ছেটিংছ পৰীক্ষা কৰক",
                "বিফল লেনদেনৰ কাৰণ চাওক",
                "প্ৰদানকাৰীৰ সেৱা বন্ধ হৈছে নেকি চাওক",
            ],
            Some(
                "পৰিশোধ নিশ্চিত নোহোৱালৈকে বা আন এটা অনুমোদিত পৰিশোধ পদ্ধতিৰ ব্যৱস্থা নোহোৱালৈকে পৰিশোধ নোহোৱা অৰ্ডাৰ পূৰণ নকৰিব।",
            ),
        ),
        (Logistics, En) => list(
            "If a logistics integration stops working",
            &[
                "Check logistics provider dashboard",
                "Verify pickup address",
                "Check shipment creation status",
                "Verify serviceability",
                "Review package weight and dimensions",
                "Check COD settings",
                "Check provider account balance or billing",
                "Review provider system alerts",
            ],
            Some("You may ship manually while the integration issue is resolved."),
        ),
        (Logistics, Hi) => list(
            "अगर लॉजिस्टिक्स इंटीग्रेशन काम करना बंद कर दे",
            &[
                "लॉजिस्टिक्स प्रोवाइडर का डैशबोर्ड देखें",
                "पिकअप का पता जाँचें",
                "शिपमेंट बनने की स्थिति देखें",
                "जाँचें कि उस पते पर डिलीवरी उपलब्ध है",
                "पैकेज का वज़न और आकार जाँचें",
                "COD की सेटिंग देखें",
                "प्रोवाइडर खाते का बैलेंस या बिलिंग देखें",
                "प्रोवाइडर की सिस्टम सूचनाएँ देखें",
            ],
            Some("इंटीग्रेशन की समस्या ठीक होने तक आप ऑर्डर खुद भेज सकते हैं।"),
        ),
        (Logistics, As) => list(
            "লজিষ্টিক ইণ্টিগ্ৰেচনে কাম কৰা বন্ধ কৰিলে",
            &[
                "লজিষ্টিক প্ৰদানকাৰীৰ ডেশ্বব'ৰ্ড চাওক",
                "পিকআপৰ ঠিকনা পৰীক্ষা কৰক",
                "শ্বিপমেণ্ট সৃষ্টিৰ স্থিতি চাওক",
                "সেই ঠিকনালৈ ডেলিভাৰী সম্ভৱ নেকি পৰীক্ষা কৰক",
                "পেকেজৰ ওজন আৰু আকাৰ পৰীক্ষা কৰক",
                "COD ছেটিংছ চাওক",
                "প্ৰদানকাৰীৰ একাউণ্টৰ বেলেঞ্চ বা বিল চাওক",
                "প্ৰদানকাৰীৰ চিষ্টেম সতৰ্কবাণী চাওক",
            ],
            Some("ইণ্টিগ্ৰেচনৰ সমস্যা সমাধান নোহোৱালৈকে আপুনি নিজে অৰ্ডাৰ পঠিয়াব পাৰে।"),
        ),
        (Messaging, En) => list(
            "If a WhatsApp integration stops working",
            &[
                "Check WhatsApp provider account",
                "Verify phone number status",
                "Check template approval status",
                "Review message limits",
                "Check provider billing and API credentials",
                "Review consent and policy settings",
                "Check provider dashboard alerts",
            ],
            None,
        ),
        (Messaging, Hi) => list(
            "अगर WhatsApp इंटीग्रेशन काम करना बंद कर दे",
            &[
                "WhatsApp प्रोवाइडर का खाता देखें",
                "फ़ोन नंबर की स्थिति जाँचें",
                "टेम्पलेट की मंज़ूरी की स्थिति देखें",
                "मैसेज भेजने की सीमाएँ देखें",
                "प्रोवाइडर की बिलिंग और API क्रेडेंशियल देखें",
                "सहमति और नीति की सेटिंग देखें",
                "प्रोवाइडर डैशबोर्ड की सूचनाएँ देखें",
            ],
            None,
        ),
        (Messaging, As) => list(
            "WhatsApp ইণ্টিগ্ৰেচনে কাম কৰা বন্ধ কৰিলে",
            &[
                "WhatsApp প্ৰদানকাৰীৰ একাউণ্ট চাওক",
                "ফোন নম্বৰৰ স্থিতি পৰীক্ষা কৰক",
                "টেমপ্লেট অনুমোদনৰ স্থিতি চাওক",
                "বাৰ্তা পঠিওৱাৰ সীমা চাওক",
                "প্ৰদানকাৰীৰ বিল আৰু API ক্ৰেডেনচিয়েল চাওক",
                "সন্মতি আৰু নীতিৰ ছেটিংছ চাওক",
                "প্ৰদানকাৰীৰ ডেশ্বব'ৰ্ডৰ সতৰ্কবাণী চাওক",
            ],
            None,
        ),
        (Analytics, En) => list(
            "If an analytics integration stops working",
            &[
                "Check analytics provider dashboard",
                "Verify tracking code or pixel is installed",
                "Check property or account status",
                "Review consent banner settings",
                "Check for data processing delay at the provider",
                "Verify API keys or credentials",
                "Review usage limits",
            ],
            Some("Sales and orders are not affected; only reports are."),
        ),
        (Analytics, Hi) => list(
            "अगर एनालिटिक्स इंटीग्रेशन काम करना बंद कर दे",
            &[
                "एनालिटिक्स प्रोवाइडर का डैशबोर्ड देखें",
                "जाँचें कि ट्रैकिंग कोड या पिक्सेल लगा हुआ है",
                "प्रॉपर्टी या खाते की स्थिति देखें",
                "सहमति बैनर की सेटिंग देखें",
                "देखें कि प्रोवाइडर के यहाँ डेटा आने में देरी तो नहीं है",
                "API कुंजियाँ या क्रेडेंशियल जाँचें",
                "उपयोग की सीमाएँ देखें",
            ],
            Some("बिक्री और ऑर्डर पर कोई असर नहीं पड़ता; केवल रिपोर्ट प्रभावित होती हैं।"),
        ),
        (Analytics, As) => list(
            "এনালিটিক্স ইণ্টিগ্ৰেচনে কাম কৰা বন্ধ কৰিলে",
            &[
                "এনালিটিক্স প্ৰদানকাৰীৰ ডেশ্বব'ৰ্ড চাওক",
                "ট্ৰেকিং ক'ড বা পিক্সেল লগোৱা আছে নেকি পৰীক্ষা কৰক",
                "প্ৰপাৰ্টি বা একাউণ্টৰ স্থিতি চাওক",
                "সন্মতি বেনাৰৰ ছেটিংছ চাওক",
                "প্ৰদানকাৰীৰ ফালে তথ্য আহোঁতে পলম হৈছে নেকি চাওক",
                "API চাবি বা ক্ৰেডেনচিয়েল পৰীক্ষা কৰক",
                "ব্যৱহাৰৰ সীমা চাওক",
            ],
            Some("বিক্ৰী আৰু অৰ্ডাৰত কোনো প্ৰভাৱ নপৰে; কেৱল ৰিপ'ৰ্টত প্ৰভাৱ পৰে।"),
        ),
        (Ads, En) => list(
            "If an ads integration stops working",
            &[
                "Check ad account status and spending limits",
                "Check billing and payment method",
                "Verify pixel and conversion API events",
                "Review policy alerts on ads or catalogue",
                "Verify API token or credentials",
                "Check catalogue sync status",
                "Check ads provider dashboard alerts",
            ],
            Some(
                "Pause campaigns that depend on conversion data if events stopped arriving, so budget is not spent blind.",
            ),
        ),
        (Ads, Hi) => list(
            "अगर विज्ञापन इंटीग्रेशन काम करना बंद कर दे",
            &[
                "विज्ञापन खाते की स्थिति और खर्च की सीमा देखें",
                "बिलिंग और भुगतान का तरीका देखें",
                "पिक्सेल और कन्वर्ज़न API इवेंट जाँचें",
                "विज्ञापनों या कैटलॉग पर नीति से जुड़ी सूचनाएँ देखें",
                "API टोकन या क्रेडेंशियल जाँचें",
                "कैटलॉग सिंक की स्थिति देखें",
                "विज्ञापन प्रोवाइडर के डैशबोर्ड की सूचनाएँ देखें",
            ],
            Some(
                "अगर इवेंट आने बंद हो गए हैं तो कन्वर्ज़न डेटा पर निर्भर कैंपेन रोक दें, ताकि बजट बिना जानकारी के खर्च न हो।",
            ),
        ),
        (Ads, As) => list(
            "বিজ্ঞাপন ইণ্টিগ্ৰেচনে কাম কৰা বন্ধ কৰিলে",
            &[
                "বিজ্ঞাপন একাউণ্টৰ স্থিতি আৰু খৰচৰ সীমা চাওক",
                "বিল আৰু পৰিশোধৰ পদ্ধতি চাওক",
                "পিক্সেল আৰু কনভাৰ্চন API ইভেণ্ট পৰীক্ষা কৰক",
                "বিজ্ঞাপন বা কেটেলগৰ ওপৰত নীতিগত সতৰ্কবাণী চাওক",
                "API টোকেন বা ক্ৰেডেনচিয়েল পৰীক্ষা কৰক",
                "কেটেলগ চিংকৰ স্থিতি চাওক",
                "বিজ্ঞাপন প্ৰদানকাৰীৰ ডেশ্বব'ৰ্ডৰ সতৰ্কবাণী চাওক",
            ],
            Some(
                "ইভেণ্ট অহা বন্ধ হ'লে কনভাৰ্চন তথ্যৰ ওপৰত নিৰ্ভৰ কৰা কেম্পেইনবোৰ বন্ধ ৰাখক, যাতে বাজেট অন্ধভাৱে খৰচ নহয়।",
            ),
        ),
        (Marketplace, En) => list(
            "If a marketplace integration stops working",
            &[
                "Check seller account status",
                "Review listing and catalogue errors",
                "Check stock and price sync",
                "Check order sync status",
                "Verify API keys or credentials",
                "Review marketplace policy alerts",
                "Check marketplace fees and billing",
            ],
            Some("Update stock on the marketplace by hand meanwhile to avoid overselling."),
        ),
        (Marketplace, Hi) => list(
            "अगर मार्केटप्लेस इंटीग्रेशन काम करना बंद कर दे",
            &[
                "सेलर खाते की स्थिति देखें",
                "लिस्टिंग और कैटलॉग की त्रुटियाँ देखें",
                "स्टॉक और कीमत का सिंक जाँचें",
                "ऑर्डर सिंक की स्थिति देखें",
                "API कुंजियाँ या क्रेडेंशियल जाँचें",
                "मार्केटप्लेस की नीति से जुड़ी सूचनाएँ देखें",
                "मार्केटप्लेस की फ़ीस और बिलिंग देखें",
            ],
            Some("तब तक मार्केटप्लेस पर स्टॉक खुद अपडेट करें, ताकि स्टॉक से ज़्यादा बिक्री न हो जाए।"),
        ),
        (Marketplace, As) => list(
            "মাৰ্কেটপ্লেচ ইণ্টিগ্ৰেচনে কাম কৰা বন্ধ কৰিলে",
            &[
                "বিক্ৰেতাৰ একাউণ্টৰ স্থিতি চাওক",
                "লিষ্টিং আৰু কেটেলগৰ ত্ৰুটি চাওক",
                "মজুত আৰু দামৰ চিংক পৰীক্ষা কৰক",
                "অৰ্ডাৰ চিংকৰ স্থিতি চাওক",
                "API চাবি বা ক্ৰেডেনচিয়েল পৰীক্ষা কৰক",
                "মাৰ্কেটপ্লেচৰ নীতিগত সতৰ্কবাণী চাওক",
                "মাৰ্কেটপ্লেচৰ মাচুল আৰু বিল চাওক",
            ],
            Some("তেতিয়ালৈকে মাৰ্কেটপ্লেচত মজুত নিজে আপডেট কৰক, যাতে মজুততকৈ বেছি বিক্ৰী নহয়।"),
        ),
    }
}

/// What to check first when any integration stops working.
pub fn check_first(lang: Language) -> Checklist {
    match lang {
        Language::En => list(
            "What to check first",
            &[
                "Whether the app is still connected",
                "Whether provider account is active",
                "Whether provider billing is paid",
                "Whether KYC or verification is complete",
                "Whether permissions are still valid",
                "Whether API keys or credentials changed",
                "Whether service is available in the provider dashboard",
                "Whether the app has reached any usage limits",
                "Whether Airlock shows an error",
                "Whether recent changes were made",
            ],
            None,
        ),
        Language::Hi => list(
            "पहले क्या जाँचें",
            &[
                "क्या ऐप अब भी कनेक्टेड है",
                "क्या प्रोवाइडर खाता सक्रिय है",
                "क्या प्रोवाइडर का बिल चुका दिया गया है",
                "क्या KYC या सत्यापन पूरा हो गया है",
                "क्या अनुमतियाँ अब भी मान्य हैं",
                "क्या API कुंजियाँ या क्रेडेंशियल बदले गए हैं",
                "क्या प्रोवाइडर डैशबोर्ड में सेवा उपलब्ध दिख रही है",
                "क्या ऐप किसी उपयोग सीमा तक पहुँच गया है",
                "क्या Airlock कोई त्रुटि दिखा रहा है",
                "क्या हाल में कोई बदलाव किए गए हैं",
            ],
            None,
        ),
        Language::As => list(
            "প্ৰথমে কি পৰীক্ষা কৰিব",
            &[
                "এপটো এতিয়াও সংযুক্ত হৈ আছে নেকি",
                "প্ৰদানকাৰীৰ একাউণ্ট সক্ৰিয় হৈ আছে নেকি",
                "প্ৰদানকাৰীৰ বিল পৰিশোধ কৰা হৈছে নেকি",
                "KYC বা সত্যাপন সম্পূৰ্ণ হৈছে নেকি",
                "অনুমতিবোৰ এতিয়াও বৈধ হৈ আছে নেকি",
                "API চাবি বা ক্ৰেডেনচিয়েল সলনি হৈছে নেকি",
                "প্ৰদানকাৰীৰ ডেশ্বব'ৰ্ডত সেৱা উপলব্ধ দেখুৱাইছে নেকি",
                "এপটো কোনো ব্যৱহাৰৰ সীমাত উপনীত হৈছে নেকি",
                "Airlock-এ কোনো ত্ৰুটি দেখুৱাইছে নেকি",
                "শেহতীয়াকৈ কোনো সাল-সলনি কৰা হৈছে নেকি",
            ],
            None,
        ),
    }
}
