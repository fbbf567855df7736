/*
 * regions.js — the 83 federal subjects of Russia in ISO 3166-2:RU, each
 * with its place on the tile map (x west to east, y north to south: one
 * equal tile per subject, roughly where it lies, so Moscow weighs as much
 * as Yakutia) and its English and Russian names.  The layout is ours,
 * drawn by hand from the subjects' approximate centres.  Invariants
 * (checked by tests/http/dashboard.js): 83 distinct codes, distinct
 * (x, y) cells, x in 0..GRID_W-1, y in 0..GRID_H-1.
 */
export const GRID_W = 17;
export const GRID_H = 12;

/* [code, x, y, English, Russian] */
const T = [
	["RU-MUR", 2, 0, "Murmansk Oblast", "Мурманская область"],
	["RU-KR", 2, 1, "Republic of Karelia", "Республика Карелия"],
	["RU-ARK", 3, 1, "Arkhangelsk Oblast", "Архангельская область"],
	["RU-NEN", 4, 1, "Nenets Autonomous Okrug", "Ненецкий автономный округ"],
	["RU-YAN", 8, 2, "Yamalo-Nenets Autonomous Okrug", "Ямало-Ненецкий автономный округ"],
	["RU-CHU", 16, 2, "Chukotka Autonomous Okrug", "Чукотский автономный округ"],
	["RU-SPE", 1, 2, "Saint Petersburg", "Санкт-Петербург"],
	["RU-LEN", 2, 2, "Leningrad Oblast", "Ленинградская область"],
	["RU-VLG", 3, 2, "Vologda Oblast", "Вологодская область"],
	["RU-KO", 4, 2, "Komi Republic", "Республика Коми"],
	["RU-PSK", 1, 3, "Pskov Oblast", "Псковская область"],
	["RU-NGR", 2, 3, "Novgorod Oblast", "Новгородская область"],
	["RU-YAR", 3, 3, "Yaroslavl Oblast", "Ярославская область"],
	["RU-KOS", 4, 3, "Kostroma Oblast", "Костромская область"],
	["RU-KIR", 5, 3, "Kirov Oblast", "Кировская область"],
	["RU-PER", 6, 3, "Perm Krai", "Пермский край"],
	["RU-KHM", 8, 3, "Khanty-Mansi Autonomous Okrug", "Ханты-Мансийский автономный округ"],
	["RU-KYA", 11, 3, "Krasnoyarsk Krai", "Красноярский край"],
	["RU-SA", 13, 3, "Sakha (Yakutia) Republic", "Республика Саха (Якутия)"],
	["RU-MAG", 15, 3, "Magadan Oblast", "Магаданская область"],
	["RU-KGD", 0, 4, "Kaliningrad Oblast", "Калининградская область"],
	["RU-TVE", 1, 4, "Tver Oblast", "Тверская область"],
	["RU-MOW", 2, 4, "Moscow", "Москва"],
	["RU-IVA", 3, 4, "Ivanovo Oblast", "Ивановская область"],
	["RU-NIZ", 4, 4, "Nizhny Novgorod Oblast", "Нижегородская область"],
	["RU-ME", 5, 4, "Mari El Republic", "Республика Марий Эл"],
	["RU-UD", 6, 4, "Udmurt Republic", "Удмуртская Республика"],
	["RU-SVE", 7, 4, "Sverdlovsk Oblast", "Свердловская область"],
	["RU-TYU", 8, 4, "Tyumen Oblast", "Тюменская область"],
	["RU-TOM", 10, 4, "Tomsk Oblast", "Томская область"],
	["RU-KAM", 16, 4, "Kamchatka Krai", "Камчатский край"],
	["RU-SMO", 1, 5, "Smolensk Oblast", "Смоленская область"],
	["RU-MOS", 2, 5, "Moscow Oblast", "Московская область"],
	["RU-VLA", 3, 5, "Vladimir Oblast", "Владимирская область"],
	["RU-CU", 4, 5, "Chuvash Republic", "Чувашская Республика"],
	["RU-TA", 5, 5, "Republic of Tatarstan", "Республика Татарстан"],
	["RU-BA", 6, 5, "Republic of Bashkortostan", "Республика Башкортостан"],
	["RU-CHE", 7, 5, "Chelyabinsk Oblast", "Челябинская область"],
	["RU-KGN", 8, 5, "Kurgan Oblast", "Курганская область"],
	["RU-OMS", 9, 5, "Omsk Oblast", "Омская область"],
	["RU-NVS", 10, 5, "Novosibirsk Oblast", "Новосибирская область"],
	["RU-KEM", 11, 5, "Kemerovo Oblast", "Кемеровская область"],
	["RU-KK", 12, 5, "Republic of Khakassia", "Республика Хакасия"],
	["RU-IRK", 13, 5, "Irkutsk Oblast", "Иркутская область"],
	["RU-AMU", 14, 5, "Amur Oblast", "Амурская область"],
	["RU-KHA", 15, 5, "Khabarovsk Krai", "Хабаровский край"],
	["RU-SAK", 16, 5, "Sakhalin Oblast", "Сахалинская область"],
	["RU-BRY", 1, 6, "Bryansk Oblast", "Брянская область"],
	["RU-KLU", 2, 6, "Kaluga Oblast", "Калужская область"],
	["RU-RYA", 3, 6, "Ryazan Oblast", "Рязанская область"],
	["RU-MO", 4, 6, "Republic of Mordovia", "Республика Мордовия"],
	["RU-ULY", 5, 6, "Ulyanovsk Oblast", "Ульяновская область"],
	["RU-SAM", 6, 6, "Samara Oblast", "Самарская область"],
	["RU-ALT", 10, 6, "Altai Krai", "Алтайский край"],
	["RU-AL", 11, 6, "Altai Republic", "Республика Алтай"],
	["RU-TY", 12, 6, "Tuva Republic", "Республика Тыва"],
	["RU-BU", 13, 6, "Republic of Buryatia", "Республика Бурятия"],
	["RU-ZAB", 14, 6, "Zabaykalsky Krai", "Забайкальский край"],
	["RU-YEV", 15, 6, "Jewish Autonomous Oblast", "Еврейская автономная область"],
	["RU-ORL", 1, 7, "Oryol Oblast", "Орловская область"],
	["RU-TUL", 2, 7, "Tula Oblast", "Тульская область"],
	["RU-LIP", 3, 7, "Lipetsk Oblast", "Липецкая область"],
	["RU-TAM", 4, 7, "Tambov Oblast", "Тамбовская область"],
	["RU-PNZ", 5, 7, "Penza Oblast", "Пензенская область"],
	["RU-ORE", 6, 7, "Orenburg Oblast", "Оренбургская область"],
	["RU-PRI", 15, 7, "Primorsky Krai", "Приморский край"],
	["RU-KRS", 1, 8, "Kursk Oblast", "Курская область"],
	["RU-BEL", 2, 8, "Belgorod Oblast", "Белгородская область"],
	["RU-VOR", 3, 8, "Voronezh Oblast", "Воронежская область"],
	["RU-SAR", 4, 8, "Saratov Oblast", "Саратовская область"],
	["RU-ROS", 2, 9, "Rostov Oblast", "Ростовская область"],
	["RU-VGG", 3, 9, "Volgograd Oblast", "Волгоградская область"],
	["RU-AST", 4, 9, "Astrakhan Oblast", "Астраханская область"],
	["RU-KDA", 1, 10, "Krasnodar Krai", "Краснодарский край"],
	["RU-STA", 2, 10, "Stavropol Krai", "Ставропольский край"],
	["RU-KL", 3, 10, "Republic of Kalmykia", "Республика Калмыкия"],
	["RU-AD", 0, 11, "Republic of Adygea", "Республика Адыгея"],
	["RU-KC", 1, 11, "Karachay-Cherkess Republic", "Карачаево-Черкесская Республика"],
	["RU-KB", 2, 11, "Kabardino-Balkar Republic", "Кабардино-Балкарская Республика"],
	["RU-SE", 3, 11, "Republic of North Ossetia–Alania", "Республика Северная Осетия — Алания"],
	["RU-IN", 4, 11, "Republic of Ingushetia", "Республика Ингушетия"],
	["RU-CE", 5, 11, "Chechen Republic", "Чеченская Республика"],
	["RU-DA", 6, 11, "Republic of Dagestan", "Республика Дагестан"],
];

export const REGIONS = T.map(([code, x, y, en, ru]) => ({code, x, y, en, ru}));
export const BY_CODE = new Map(REGIONS.map(r => [r.code, r]));

/* the region's name in lang ("en" or "ru"); the code itself when unknown */
export function regionName(code, lang) {
	const r = BY_CODE.get(code);
	return r ? r[lang === "ru" ? "ru" : "en"] : code;
}
