#!/usr/bin/env node
// How far llmeval's token estimate is from a real tokenizer.
//
//   node tests/bench/token_estimate.mjs [--build-dir build] [DATASET.jsonl...]
//
// Not a test: it prints figures. llmeval reserves judge::estimate_tokens(request) =
// ceil(prompt bytes / 4) + max_tokens against a provider's tokens-per-minute budget before each
// judge call (core/judge/judge_prompt.cpp). This script compares the prompt part, ceil(bytes / 4),
// with what OpenAI's tokenizers make of the same request:
//
// - llmeval_judge_prompts (tests/bench/judge_prompts.cpp, built in BUILD/tests/; --build-dir
//   defaults to the checkout's build/) prints every
//   judge request a run would build for a dataset (default JudgeOptions, no config), with its
//   byte count and estimate.
// - gpt-tokenizer (pinned in package.json; `npm ci` in tests/bench/) counts each request's
//   system prompt and messages with o200k_base (GPT-4o, 4.1, 5) and cl100k_base (GPT-4,
//   GPT-3.5). The "real" count is the chat's: each message's role and content, plus 3 tokens per
//   message and 3 to prime the reply (OpenAI cookbook, "How to count tokens with tiktoken"); a
//   judge request is two messages (system, user), so 11 tokens over the bare text. The special
//   tokens' text (<|endoftext|>) in a row counts as plain text, as the APIs treat it.
// - Per dataset and category (the row's metadata.category; the generated rows set theirs) it
//   prints the number of requests, the p10, median and p90 of the relative error
//   (estimate - real) / real, its mean, and the share of requests the estimate puts BELOW the
//   real count: those reserve too little of the budget, and the provider's 429s make up the
//   difference.
// - Another table does the same, against o200k_base, for the user message alone (the row's own text, without the
//   fixed English system prompt and the chat overhead): the error of bytes/4 per script.
// - PROPOSAL tables: a cheap estimate that weighs character classes (ASCII letters, digits and
//   punctuation, 2-byte, CJK, other 3-byte code points; see proposedEstimate below), measured on
//   the same requests. Not what llmeval does.
//
// Without DATASET arguments it reads datasets/sample.jsonl and a generated set (a few hundred
// rows, the same every time: English and European prose, code, JSON, numbers, Chinese,
// Japanese, Russian, Arabic, Hindi), written to a temporary file and deleted afterwards.
// Exit codes: 0 done; 1 the tool failed or printed something unexpected; 2 usage.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import * as o200k from 'gpt-tokenizer/encoding/o200k_base';
import * as cl100k from 'gpt-tokenizer/encoding/cl100k_base';

const scriptPath = fileURLToPath(import.meta.url);
const repo = path.resolve(path.dirname(scriptPath), '..', '..');
const USAGE = 'usage: node tests/bench/token_estimate.mjs [--build-dir build] [DATASET.jsonl...]';

// ---------------------------------------------------------------------------------------------
// Arguments

function parseArgs(argv) {
  const args = { buildDir: path.join(repo, 'build'), datasets: [] };
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else if (a === '--build-dir') {
      if (i + 1 >= argv.length) usageError('--build-dir needs a directory');
      args.buildDir = path.resolve(argv[++i]);
    } else if (a.startsWith('--build-dir=')) {
      args.buildDir = path.resolve(a.slice('--build-dir='.length));
    } else if (a.startsWith('-') && a !== '-') {
      usageError(`unknown option ${a}`);
    } else {
      args.datasets.push(a);
    }
  }
  return args;
}

function usageError(message) {
  console.error(`token_estimate: ${message}\n${USAGE}`);
  process.exit(2);
}

function shellQuote(s) {
  return /^[A-Za-z0-9_./=:,+@%-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
}

// ---------------------------------------------------------------------------------------------
// The generated dataset: deterministic (a seeded PRNG), a few hundred rows in ten categories.

function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SENTENCES = {
  prose_en: [
    'You can return most items within 30 days of delivery for a full refund.',
    'The committee met on Tuesday to review the budget and agreed to postpone the decision until the audit is finished.',
    'Photosynthesis converts light energy into chemical energy, storing it in the bonds of glucose molecules.',
    'If the problem persists after restarting the router, please contact our support team with your account number.',
    'The novel follows a young engineer who leaves her hometown to build bridges in a country she has never seen.',
    'Interest rates rose sharply last year, which made mortgages more expensive for first-time buyers.',
    "Honestly, I think the second option is better, but it depends on how much time you're willing to spend.",
    'The museum reopened after a two-year renovation, with a new wing devoted to early photography.',
    'To reset your password, open the settings page, choose Security, and follow the instructions sent to your email.',
    'Researchers found that participants who slept less than six hours performed worse on memory tasks.',
    'The recipe calls for two cups of flour, a pinch of salt, and butter that has been left to soften at room temperature.',
    'Our quarterly report shows steady growth in subscriptions, although churn increased slightly in the enterprise segment.',
    'Make sure the cable is firmly connected before you power on the device.',
    'The city council approved a plan to convert three downtown parking lots into public parks by 2027.',
  ],
  prose_eu: [
    "Vous pouvez retourner la plupart des articles dans les trente jours suivant la livraison pour un remboursement complet.",
    "Le comité s'est réuni mardi pour examiner le budget et a décidé de reporter sa décision après l'audit.",
    'Die Sitzung wurde verschoben, weil mehrere Mitglieder wegen des Streiks nicht anreisen konnten.',
    'Bitte überprüfen Sie, ob das Kabel richtig angeschlossen ist, bevor Sie das Gerät einschalten.',
    'El museo reabrió después de una renovación de dos años, con una nueva sala dedicada a la fotografía.',
    'Si el problema persiste después de reiniciar el router, póngase en contacto con nuestro equipo de soporte.',
    "L'économie française a connu une croissance modérée au cours du dernier trimestre, portée par la consommation.",
    'Die Forscher stellten fest, dass Teilnehmer mit weniger als sechs Stunden Schlaf schlechter abschnitten.',
    'La receta lleva dos tazas de harina, una pizca de sal y mantequilla a temperatura ambiente.',
    'Le remboursement apparaîtra sur votre relevé bancaire sous trois à cinq jours ouvrés.',
    'Straßenbahnen fahren in der Innenstadt alle zehn Minuten, am Wochenende etwas seltener.',
    'Según el informe, las exportaciones aumentaron un doce por ciento respecto al año anterior.',
  ],
  zh: [
    '您可以在收货后三十天内退回大部分商品并获得全额退款。',
    '委员会于周二开会审议预算，并决定在审计完成后再作决定。',
    '光合作用将光能转化为化学能，并储存在葡萄糖分子的化学键中。',
    '如果重启路由器后问题仍然存在，请携带您的账号联系我们的客服团队。',
    '这部小说讲述了一位年轻工程师离开家乡，到一个陌生的国家修建桥梁的故事。',
    '去年利率大幅上升，使首次购房者的按揭贷款成本明显增加。',
    '博物馆在经过两年的翻修后重新开放，新增了一个专门展示早期摄影作品的展厅。',
    '研究人员发现，睡眠不足六小时的参与者在记忆测试中的表现较差。',
    '要重置密码，请打开设置页面，选择“安全”，然后按照发送到您邮箱的说明操作。',
    '我们的季度报告显示订阅量稳步增长，但企业客户的流失率略有上升。',
    '市议会批准了一项计划，将在二〇二七年前把市中心的三个停车场改建为公园。',
    '这个答案基本正确，但没有说明退货需要保留原始包装。',
  ],
  ja: [
    'ほとんどの商品は、配達から30日以内であれば全額返金で返品できます。',
    '委員会は火曜日に予算を審議し、監査が終わるまで決定を延期することにしました。',
    '光合成は光エネルギーを化学エネルギーに変換し、ブドウ糖の結合に蓄えます。',
    'ルーターを再起動しても問題が解決しない場合は、アカウント番号を添えてサポートまでご連絡ください。',
    'その小説は、故郷を離れて見知らぬ国で橋を架ける若い技術者の物語です。',
    '博物館は二年間の改装を経て再開し、初期の写真を展示する新しい展示室が加わりました。',
    '研究者たちは、睡眠が六時間未満の参加者は記憶課題の成績が低いことを発見しました。',
    'パスワードを再設定するには、設定画面を開き、「セキュリティ」を選んで、メールの指示に従ってください。',
    '四半期報告書によると、購読者数は着実に増えていますが、法人向けの解約率はわずかに上昇しました。',
    'この回答はおおむね正しいですが、返品の手順についての説明が不足しています。',
  ],
  ru: [
    'Большинство товаров можно вернуть в течение тридцати дней с момента доставки с полным возвратом денег.',
    'Комитет собрался во вторник, чтобы рассмотреть бюджет, и решил отложить решение до завершения аудита.',
    'Фотосинтез превращает энергию света в химическую энергию, запасая её в связях молекул глюкозы.',
    'Если после перезагрузки роутера проблема не исчезла, обратитесь в службу поддержки и укажите номер счёта.',
    'Роман рассказывает о молодой инженерше, которая уезжает из родного города строить мосты в незнакомой стране.',
    'В прошлом году процентные ставки резко выросли, и ипотека подорожала для тех, кто покупает жильё впервые.',
    'Музей вновь открылся после двухлетней реконструкции, и в нём появился новый зал ранней фотографии.',
    'Исследователи обнаружили, что участники, спавшие меньше шести часов, хуже справлялись с заданиями на память.',
    'Чтобы сбросить пароль, откройте настройки, выберите раздел «Безопасность» и следуйте инструкциям из письма.',
    'Квартальный отчёт показывает устойчивый рост подписок, хотя отток корпоративных клиентов немного увеличился.',
    'Городской совет одобрил план превратить три парковки в центре города в общественные парки к 2027 году.',
    'Ответ в целом верный, но в нём не сказано, что нужно сохранить оригинальную упаковку.',
  ],
  ar: [
    'يمكنك إرجاع معظم المنتجات خلال ثلاثين يومًا من التسليم واسترداد المبلغ كاملًا.',
    'اجتمعت اللجنة يوم الثلاثاء لمراجعة الميزانية وقررت تأجيل القرار حتى انتهاء التدقيق.',
    'يحوّل التمثيل الضوئي الطاقة الضوئية إلى طاقة كيميائية تُخزَّن في روابط جزيئات الجلوكوز.',
    'إذا استمرت المشكلة بعد إعادة تشغيل جهاز التوجيه، يرجى التواصل مع فريق الدعم مع ذكر رقم حسابك.',
    'تحكي الرواية قصة مهندسة شابة تغادر مدينتها لتبني الجسور في بلد لم تره من قبل.',
    'ارتفعت أسعار الفائدة بشكل حاد في العام الماضي، مما جعل القروض العقارية أغلى على المشترين الجدد.',
    'أعيد افتتاح المتحف بعد تجديد استمر عامين، مع جناح جديد مخصص للتصوير الفوتوغرافي المبكر.',
    'وجد الباحثون أن المشاركين الذين ناموا أقل من ست ساعات كان أداؤهم أضعف في مهام الذاكرة.',
    'لإعادة تعيين كلمة المرور، افتح صفحة الإعدادات واختر الأمان ثم اتبع التعليمات المرسلة إلى بريدك.',
    'الإجابة صحيحة في مجملها، لكنها لا تذكر ضرورة الاحتفاظ بالعبوة الأصلية.',
  ],
  hi: [
    'आप डिलीवरी के तीस दिनों के भीतर अधिकांश सामान लौटाकर पूरा पैसा वापस पा सकते हैं।',
    'समिति ने मंगलवार को बजट की समीक्षा की और ऑडिट पूरा होने तक निर्णय टालने का फैसला किया।',
    'प्रकाश संश्लेषण प्रकाश ऊर्जा को रासायनिक ऊर्जा में बदलता है और उसे ग्लूकोज़ के अणुओं में संग्रहित करता है।',
    'यदि राउटर को दोबारा चालू करने के बाद भी समस्या बनी रहती है, तो कृपया अपने खाता संख्या के साथ सहायता टीम से संपर्क करें।',
    'यह उपन्यास एक युवा इंजीनियर की कहानी है जो अपना शहर छोड़कर एक अनजान देश में पुल बनाने जाती है।',
    'पिछले साल ब्याज दरें तेज़ी से बढ़ीं, जिससे पहली बार घर खरीदने वालों के लिए कर्ज़ महँगा हो गया।',
    'दो साल के नवीनीकरण के बाद संग्रहालय फिर से खुला, जिसमें शुरुआती फ़ोटोग्राफ़ी के लिए एक नया कक्ष है।',
    'शोधकर्ताओं ने पाया कि छह घंटे से कम सोने वाले प्रतिभागियों ने स्मृति परीक्षणों में खराब प्रदर्शन किया।',
    'पासवर्ड रीसेट करने के लिए सेटिंग्स खोलें, सुरक्षा चुनें और अपने ईमेल में भेजे गए निर्देशों का पालन करें।',
    'उत्तर मोटे तौर पर सही है, लेकिन इसमें मूल पैकेजिंग रखने की बात नहीं कही गई है।',
  ],
};

const QUESTIONS = {
  prose_en: ['How long do I have to return an item?', 'Summarise the article below in a few sentences.',
    'Explain the main point of this text to a ten-year-old.', 'What should I do if my order never arrived?'],
  prose_eu: ['Combien de temps ai-je pour retourner un article ?', 'Fassen Sie den folgenden Text kurz zusammen.',
    '¿Qué debo hacer si mi pedido no ha llegado?', 'Expliquez le point principal de ce texte.'],
  zh: ['我有多长时间可以退货？', '请用几句话总结下面的文章。', '请向一个十岁的孩子解释这段文字的要点。', '如果我的订单一直没有送到，我该怎么办？'],
  ja: ['商品はいつまで返品できますか？', '次の記事を数文で要約してください。', 'この文章の要点を十歳の子どもに説明してください。'],
  ru: ['Сколько времени у меня есть, чтобы вернуть товар?', 'Кратко перескажите статью ниже.',
    'Объясните главную мысль этого текста десятилетнему ребёнку.'],
  ar: ['كم لدي من الوقت لإرجاع منتج؟', 'لخّص المقال التالي في بضع جمل.', 'ماذا أفعل إذا لم يصل طلبي؟'],
  hi: ['मेरे पास सामान लौटाने के लिए कितना समय है?', 'नीचे दिए गए लेख का कुछ वाक्यों में सारांश दें।', 'अगर मेरा ऑर्डर नहीं पहुँचा तो मुझे क्या करना चाहिए?'],
};

const NATIVE_RUBRICS = {
  prose_eu: 'La réponse est exacte et répond directement à la question.',
  zh: '回答准确，并直接回应了问题。',
  ja: '回答は正確で、質問に直接答えている。',
  ru: 'Ответ точен и прямо отвечает на вопрос.',
  ar: 'الإجابة دقيقة وتجيب عن السؤال مباشرة.',
  hi: 'उत्तर सटीक है और सीधे प्रश्न का उत्तर देता है।',
};

const RUBRICS = [
  'The answer is factually correct and directly addresses the question.',
  'The answer is concise: no filler, no repetition, nothing the question did not ask for.',
  'The answer is grounded in the context; it makes no claim the context does not support.',
  'The answer is polite and uses the same language as the question.',
  'The code is correct, handles empty input, and follows the conventions of its language.',
  'The JSON is well-formed and contains every field the prompt asks for, with the right types.',
  'Every number in the answer matches the reference exactly.',
];

const IDENTS = ['items', 'total', 'user_id', 'orderCount', 'buffer', 'result', 'config', 'rows', 'path', 'deadline',
  'retryBudget', 'score', 'name', 'values', 'index', 'limit'];

const CODE_TEMPLATES = [
  (a, b, n) => `def ${a}(${b}):\n    """Return the running total of ${b}."""\n    total = 0\n    out = []\n    for x in ${b}:\n        total += x\n        out.append(total)\n    return out\n`,
  (a, b, n) => `function ${a}(${b}) {\n  if (!Array.isArray(${b})) throw new TypeError('${b} must be an array');\n  return ${b}.filter((x) => x != null).map((x) => x * ${n});\n}\n`,
  (a, b, n) => `std::vector<int> ${a}(const std::vector<int>& ${b}) {\n  std::vector<int> out;\n  out.reserve(${b}.size());\n  for (int v : ${b}) {\n    if (v % ${n} == 0) out.push_back(v);\n  }\n  return out;\n}\n`,
  (a, b, n) => `SELECT c.${a}, COUNT(o.id) AS orders, SUM(o.amount) AS revenue\nFROM customers c\nJOIN orders o ON o.customer_id = c.id\nWHERE o.created_at >= NOW() - INTERVAL '${n} days'\nGROUP BY c.${a}\nORDER BY revenue DESC\nLIMIT ${n * 10};\n`,
  (a, b, n) => `#!/usr/bin/env bash\nset -euo pipefail\nfor f in "$@"; do\n  if [[ -f "$f" ]]; then\n    wc -l "$f" | awk '{ print $1 }' >> /tmp/${a}.log\n  fi\ndone\nsleep ${n}\n`,
  (a, b, n) => `class ${a[0].toUpperCase() + a.slice(1)}Cache:\n    def __init__(self, ${b}=${n}):\n        self._data = {}\n        self._limit = ${b}\n\n    def get(self, key, default=None):\n        return self._data.get(key, default)\n\n    def put(self, key, value):\n        if len(self._data) >= self._limit:\n            self._data.pop(next(iter(self._data)))\n        self._data[key] = value\n`,
  (a, b, n) => `fn ${a}(${b}: &[u32]) -> Option<u32> {\n    ${b}.iter().copied().filter(|v| v % ${n} == 0).max()\n}\n\n#[test]\nfn ${a}_works() {\n    assert_eq!(${a}(&[1, 2, ${n}, ${n * 3}]), Some(${n * 3}));\n}\n`,
  (a, b, n) => `const ${a} = async (${b}) => {\n  const res = await fetch(\`/api/v1/${a}?limit=\${${b}.length}\`, { method: 'GET' });\n  if (!res.ok) return { error: res.status };\n  const body = await res.json();\n  return body.items.slice(0, ${n});\n};\n`,
];

const WORDS = ['alpha', 'status', 'region', 'created_at', 'price', 'currency', 'tags', 'owner', 'enabled', 'quantity',
  'description', 'email', 'address', 'city', 'zip', 'rating', 'items', 'sku', 'discount', 'updated'];

function generateRows() {
  const rng = mulberry32(20240611);
  const int = (lo, hi) => lo + Math.floor(rng() * (hi - lo + 1));
  const pick = (list) => list[Math.floor(rng() * list.length)];
  const lengthClass = () => {
    const r = rng();
    return r < 0.35 ? int(1, 2) : r < 0.8 ? int(3, 7) : int(10, 24);
  };
  const sentences = (cat, n) => {
    const out = [];
    for (let i = 0; i < n; ++i) out.push(pick(SENTENCES[cat]));
    return out.join(cat === 'zh' || cat === 'ja' ? '' : ' ');
  };
  const code = (n) => {
    const parts = [];
    for (let i = 0; i < n; ++i) parts.push(pick(CODE_TEMPLATES)(pick(IDENTS), pick(IDENTS), int(2, 99)));
    return parts.join('\n');
  };
  const jsonValue = (depth) => {
    const r = rng();
    if (depth > 2 || r < 0.25) return int(0, 1e6);
    if (r < 0.35) return Math.round(rng() * 1e5) / 100;
    if (r < 0.45) return rng() < 0.5;
    if (r < 0.7) return `${pick(WORDS)}-${int(1, 9999)}`;
    if (r < 0.85) return Array.from({ length: int(1, 5) }, () => jsonValue(depth + 1));
    return jsonObject(depth + 1, int(2, 5));
  };
  const jsonObject = (depth, keys) => {
    const o = {};
    for (let i = 0; i < keys; ++i) o[`${pick(WORDS)}${i ? '_' + i : ''}`] = jsonValue(depth);
    return o;
  };
  const numbers = (n) => {
    const lines = [];
    for (let i = 0; i < n; ++i) {
      const kind = int(0, 3);
      if (kind === 0) lines.push(`2024-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')},${int(100, 99999)}.${String(int(0, 99)).padStart(2, '0')},${(rng() * 2 - 1).toFixed(4)},${int(1, 9)}e${int(3, 9)}`);
      else if (kind === 1) lines.push(`Revenue rose ${(rng() * 30).toFixed(1)}% to $${int(1, 999)},${String(int(0, 999)).padStart(3, '0')},${String(int(0, 999)).padStart(3, '0')} in Q${int(1, 4)} ${int(2015, 2025)}.`);
      else if (kind === 2) lines.push(Array.from({ length: int(4, 12) }, () => int(0, 100000)).join(' '));
      else lines.push(`Order #${int(100000, 999999)}: ${int(1, 20)} x ${(rng() * 200).toFixed(2)} = ${(rng() * 4000).toFixed(2)} (tax ${(rng() * 20).toFixed(2)}%)`);
    }
    return lines.join('\n');
  };

  const categories = ['prose_en', 'prose_eu', 'code', 'json', 'numbers', 'zh', 'ja', 'ru', 'ar', 'hi'];
  const perCategory = 40;
  const rows = [];
  for (const cat of categories) {
    for (let i = 0; i < perCategory; ++i) {
      const n = lengthClass();
      const row = { id: `${cat}-${String(i + 1).padStart(3, '0')}` };
      if (cat === 'code') {
        row.prompt = `Write a function called ${pick(IDENTS)} that processes a list of ${pick(IDENTS)}; include a test.`;
        row.output = code(Math.max(1, Math.ceil(n / 3)));
        if (rng() < 0.4) row.reference = code(1);
      } else if (cat === 'json') {
        row.prompt = `Extract the ${pick(WORDS)}, ${pick(WORDS)} and ${pick(WORDS)} fields as a JSON object.`;
        const obj = jsonObject(0, int(2, 4) + n);
        row.output = JSON.stringify(obj, null, rng() < 0.5 ? 2 : 0);
        if (rng() < 0.4) row.reference = JSON.stringify(jsonObject(0, int(2, 5)));
      } else if (cat === 'numbers') {
        row.prompt = 'List the figures from the report below, one per line, exactly as written.';
        row.output = numbers(n * 2);
        if (rng() < 0.5) row.reference = numbers(int(1, 4));
        if (rng() < 0.3) row.context = numbers(int(3, 10));
      } else {
        row.prompt = pick(QUESTIONS[cat]);
        row.output = sentences(cat, n);
        if (rng() < 0.5) row.reference = sentences(cat, int(1, 2));
        if (rng() < 0.3) row.context = sentences(cat, int(3, 10));
      }
      // Criteria: mostly English rubrics (as most users write them), sometimes in the rows'
      // language, sometimes with a deterministic check that makes no judge call.
      const c = rng();
      if (c < 0.4) {
        row.criteria = pick(RUBRICS);
      } else if (c < 0.7) {
        row.criteria = { correctness: pick(RUBRICS), concise: RUBRICS[1] };
      } else if (c < 0.85 && NATIVE_RUBRICS[cat]) {
        row.criteria = [{ name: 'native', rubric: NATIVE_RUBRICS[cat], scale: '1-10', threshold: 7 }];
      } else {
        row.criteria = [{ name: 'correct', rubric: pick(RUBRICS), scale: 'binary' },
          { name: 'not_empty', type: 'min_chars', value: 1 }];
      }
      row.metadata = { category: cat };
      rows.push(row);
    }
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// Counting

const PLAIN = { disallowedSpecial: new Set() };  // "<|endoftext|>" in a row is text, not a special token
const TOKENS_PER_MESSAGE = 3;                     // <|im_start|>, <|im_sep|> (or role separator), <|im_end|>
const REPLY_PRIMING = 3;                          // <|im_start|>assistant<|im_sep|>

function chatMessages(request) {
  const messages = request.system ? [{ role: 'system', content: request.system }] : [];
  return messages.concat(request.messages);
}

// Tokens of the whole chat as the API counts its prompt (OpenAI cookbook's num_tokens_from_messages).
function chatTokens(enc, request) {
  let n = REPLY_PRIMING;
  for (const m of chatMessages(request)) n += TOKENS_PER_MESSAGE + enc.countTokens(m.role, PLAIN) + enc.countTokens(m.content, PLAIN);
  return n;
}

// PROPOSAL, not llmeval's estimate: as cheap as bytes/4 (one pass over the text, no tables beyond
// an ASCII class and a few code-point ranges), but it weighs characters by what o200k_base makes of
// them instead of by their UTF-8 length. Tokens per character:
//   ASCII letters and whitespace          0.22  (English prose: ~4.5 of them a token)
//   ASCII digits and punctuation          2/3   (digits go in groups of at most 3; JSON and code
//                                                 punctuation is often a token of its own)
//   2-byte code points                    1/3   (Latin accents, Greek, Cyrillic, Arabic, Hebrew)
//   CJK ideographs, kana, Hangul, fullwidth  0.8 (U+2E80-9FFF, U+AC00-D7AF, U+F900-FAFF, U+FF00-FFEF)
//   other 3-byte code points              0.4   (Devanagari and other Indic scripts, Thai, symbols)
//   4-byte code points                    1     (emoji, rare CJK)
// rounded up, plus the chat overhead (4 per message + 3). The weights are round numbers read off
// this script's generated set (so the figures below are in-sample): they put every category's
// median a little above the o200k_base count. cl100k_base spends far more tokens on non-Latin
// scripts, so no single cheap rule fits both.
const PROPOSAL = { letterOrSpace: 0.22, digitOrPunct: 2 / 3, cp2: 1 / 3, cjk: 0.8, cp3: 0.4, cp4: 1, perMessage: 4, priming: 3 };

function isCjk(cp) {
  return (cp >= 0x2e80 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xff00 && cp <= 0xffef);
}

function isLetterOrSpace(cp) {
  return (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a) || cp === 0x20 || (cp >= 0x09 && cp <= 0x0d);
}

function proposedUnits(text) {
  let units = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0);
    if (cp < 0x80) units += isLetterOrSpace(cp) ? PROPOSAL.letterOrSpace : PROPOSAL.digitOrPunct;
    else if (cp < 0x800) units += PROPOSAL.cp2;
    else if (cp < 0x10000) units += isCjk(cp) ? PROPOSAL.cjk : PROPOSAL.cp3;
    else units += PROPOSAL.cp4;
  }
  return units;
}

function proposedEstimate(request) {
  const messages = chatMessages(request);
  const units = messages.reduce((s, m) => s + proposedUnits(m.content), 0);
  return Math.ceil(units) + PROPOSAL.perMessage * messages.length + PROPOSAL.priming;
}

// Code points of a text by UTF-8 length (for the tokens-per-code-point column).
function codePoints(text) {
  let n = 0;
  for (const _ of text) ++n;
  return n;
}

// ---------------------------------------------------------------------------------------------
// Statistics

function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at), hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

function summarise(errors) {
  const sorted = [...errors].sort((a, b) => a - b);
  const mean = errors.reduce((s, e) => s + e, 0) / errors.length;
  return {
    n: errors.length, p10: quantile(sorted, 0.1), median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9),
    mean, under: errors.filter((e) => e < 0).length / errors.length,
  };
}

const pct = (x) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%` : '-');
const share = (x) => `${(x * 100).toFixed(1)}%`;

function table(title, header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  console.log(`\n${title}`);
  console.log(`  ${line(header)}`);
  for (const r of rows) console.log(`  ${line(r)}`);
}

// ---------------------------------------------------------------------------------------------
// Running the tool over one dataset

// line number -> metadata.category, as llmeval numbers lines (split on LF; BOM and CR ignored).
function categoriesByLine(file) {
  const map = new Map();
  if (file === '-') return map;
  let text = fs.readFileSync(file, 'utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  text.split('\n').forEach((line, i) => {
    try {
      const row = JSON.parse(line);
      const cat = row?.metadata?.category;
      if (typeof cat === 'string' && cat !== '') map.set(i + 1, cat);
    } catch { /* an invalid line: the tool skips it too */ }
  });
  return map;
}

async function measure(tool, file) {
  const categories = categoriesByLine(file);
  const child = spawn(tool, [file], { stdio: [file === '-' ? 'inherit' : 'ignore', 'pipe', 'inherit'] });
  const spawnError = new Promise((_, reject) => child.on('error', reject));
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const requests = [];
  const lines = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  const reading = (async () => {
    for await (const text of lines) {
      const r = JSON.parse(text);
      const messages = chatMessages(r);
      const bytes = messages.reduce((s, m) => s + Buffer.byteLength(m.content, 'utf8'), 0);
      if (bytes !== r.bytes || r.estimate !== Math.ceil(bytes / 4)) {
        throw new Error(`line ${r.line} ${r.criterion}: the tool says ${r.bytes} bytes, estimate ${r.estimate}; counted ${bytes}`);
      }
      const user = r.messages.map((m) => m.content).join('');
      const userBytes = Buffer.byteLength(user, 'utf8');
      requests.push({
        category: categories.get(r.line) ?? '(none)',
        estimate: r.estimate,
        o200k: chatTokens(o200k, r),
        cl100k: chatTokens(cl100k, r),
        o200kText: messages.reduce((s, m) => s + o200k.countTokens(m.content, PLAIN), 0),
        proposal: proposedEstimate(r),
        userEstimate: Math.ceil(userBytes / 4),
        userO200k: o200k.countTokens(user, PLAIN),
        userCl100k: cl100k.countTokens(user, PLAIN),
        userCodePoints: codePoints(user),
      });
    }
  })();
  await Promise.race([Promise.all([reading, exited]), spawnError]);
  const { code, signal } = await exited;
  if (code !== 0) throw new Error(`${tool} ${file} exited with ${signal ?? code}`);
  return requests;
}

// ---------------------------------------------------------------------------------------------

function report(name, requests) {
  if (requests.length === 0) {
    console.log(`\n=== ${name}: no judge requests`);
    return;
  }
  const groups = new Map([['ALL', requests]]);
  for (const r of requests) {
    if (!groups.has(r.category)) groups.set(r.category, []);
    groups.get(r.category).push(r);
  }
  const order = [...groups.keys()].filter((k) => k !== 'ALL').sort();
  order.push('ALL');

  const rel = (est, real) => (est - real) / real;
  const row = (cat, rs, estOf, realOf) => {
    const s = summarise(rs.map((r) => rel(estOf(r), realOf(r))));
    const meanReal = rs.reduce((a, r) => a + realOf(r), 0) / rs.length;
    return [cat, s.n, meanReal.toFixed(0), pct(s.p10), pct(s.median), pct(s.p90), pct(s.mean), share(s.under)];
  };
  const header = ['category', 'requests', 'mean real', 'p10', 'median', 'p90', 'mean', 'under'];

  console.log(`\n=== ${name}: ${requests.length} judge requests`);
  table('llmeval estimate ceil(bytes/4) vs o200k_base (GPT-4o/4.1/5), real = chat tokens incl. overhead',
    header, order.map((c) => row(c, groups.get(c), (r) => r.estimate, (r) => r.o200k)));
  table('llmeval estimate ceil(bytes/4) vs cl100k_base (GPT-4/3.5), real = chat tokens incl. overhead',
    header, order.map((c) => row(c, groups.get(c), (r) => r.estimate, (r) => r.cl100k)));
  table('row text only (user message; no system prompt, no chat overhead): ceil(bytes/4) vs o200k_base',
    [...header, 'bytes/tok', 'cp/tok'], order.map((c) => {
      const rs = groups.get(c);
      const toks = rs.reduce((a, r) => a + r.userO200k, 0);
      const bytes = rs.reduce((a, r) => a + r.userEstimate * 4, 0);
      const cps = rs.reduce((a, r) => a + r.userCodePoints, 0);
      return [...row(c, rs, (r) => r.userEstimate, (r) => r.userO200k), (bytes / toks).toFixed(2), (cps / toks).toFixed(2)];
    }));
  table('PROPOSAL (not llmeval today): weighted character classes + 4/message + 3 (see proposedEstimate), vs o200k_base',
    header, order.map((c) => row(c, groups.get(c), (r) => r.proposal, (r) => r.o200k)));
  table('PROPOSAL (not llmeval today) vs cl100k_base', header, order.map((c) => row(c, groups.get(c), (r) => r.proposal, (r) => r.cl100k)));
  const overhead = requests.reduce((a, r) => a + (r.o200k - r.o200kText), 0) / requests.length;
  console.log(`\n  chat overhead counted in "real": ${overhead.toFixed(1)} tokens per request on average (o200k_base)`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const shown = ['node', path.relative(process.cwd(), scriptPath) || scriptPath, ...process.argv.slice(2)];
  const tool = path.join(args.buildDir, 'tests', 'llmeval_judge_prompts');
  const pkg = JSON.parse(fs.readFileSync(path.join(path.dirname(scriptPath), 'node_modules', 'gpt-tokenizer', 'package.json'), 'utf8'));
  console.log(`command: ${shown.map(shellQuote).join(' ')}`);
  console.log(`  (in ${process.cwd()}; node ${process.version}, gpt-tokenizer ${pkg.version}, tool ${tool})`);
  if (!fs.existsSync(tool)) {
    console.error(`token_estimate: no ${tool}: build it with  cmake --build ${args.buildDir} --target llmeval_judge_prompts` +
      '  (or pass --build-dir)');
    process.exit(2);
  }
  console.log('estimate: ceil(UTF-8 bytes of system prompt + messages / 4), the prompt part of judge::estimate_tokens ' +
    '(which adds max_tokens for the reply)');
  console.log(`real: role + content tokens of each message + ${TOKENS_PER_MESSAGE} per message + ${REPLY_PRIMING} reply priming ` +
    '(OpenAI cookbook); error = (estimate - real) / real; p10/median/p90 interpolated; ' +
    'under = share of requests with estimate < real');

  let datasets = args.datasets.map((d) => ({ name: d, file: d }));
  let tmpDir = null;
  if (datasets.length === 0) {
    tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'llmeval-token-estimate-'));
    const generated = path.join(tmpDir, 'generated.jsonl');
    const rows = generateRows();
    fs.writeFileSync(generated, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    datasets = [
      { name: path.relative(process.cwd(), path.join(repo, 'datasets', 'sample.jsonl')), file: path.join(repo, 'datasets', 'sample.jsonl') },
      { name: `generated (${rows.length} rows, seed 20240611)`, file: generated },
    ];
  }
  try {
    for (const d of datasets) report(d.name, await measure(tool, d.file));
  } finally {
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`token_estimate: ${e.message}`);
  process.exit(1);
});
