"""Words the apps and figures show, in English, Russian and Kazakh.

One table, keyed by a short name; :func:`t` looks a key up and fills its ``{placeholders}``. A key
missing in one language falls back to English (a test checks that none is missing). AQI category
names and advice live beside the AQI in :mod:`airfair.aqi`; district names come from the
``districts`` entry (``name_en``, ``name_ru``, ``name_kk``).

Examples
--------
>>> t("sensors_all", "ru")
'Все проверенные датчики'
>>> t("days_over_n", "en", n=12)
'12 days over the guideline'
"""

from __future__ import annotations

import numpy as np

LANGUAGES = {"en": "English", "ru": "Русский", "kk": "Қазақша"}

_MONTHS = {
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
    "ru": ["Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август", "Сентябрь", "Октябрь", "Ноябрь",
           "Декабрь"],
    "kk": ["Қаңтар", "Ақпан", "Наурыз", "Сәуір", "Мамыр", "Маусым", "Шілде", "Тамыз", "Қыркүйек", "Қазан", "Қараша",
           "Желтоқсан"],
}

#: key → {language: text}
TEXT: dict[str, dict[str, str]] = {
    # page chrome
    "site_title": {"en": "airfair · Almaty", "ru": "airfair · Алматы", "kk": "airfair · Алматы"},
    "exposure_title": {"en": "Who breathes the worst air, and is it fair?",
                       "ru": "Кто дышит самым грязным воздухом и справедливо ли это?",
                       "kk": "Ең лас ауаны кім жұтады және бұл әділ ме?"},
    "network_title": {"en": "The monitoring network: how far can it be trusted?",
                      "ru": "Сеть мониторинга: насколько ей можно доверять?",
                      "kk": "Мониторинг желісі: оған қаншалықты сенуге болады?"},
    "nav_exposure": {"en": "Exposure and fairness", "ru": "Воздействие и справедливость", "kk": "Әсер және әділдік"},
    "nav_network": {"en": "Sensor network", "ru": "Сеть датчиков", "kk": "Датчиктер желісі"},
    "language": {"en": "Language", "ru": "Язык", "kk": "Тіл"},
    "synthetic_banner": {
        "en": "**Synthetic data.** These figures come from airfair's simulated Almaty, calibrated to public facts, "
              "not from measurements.",
        "ru": "**Синтетические данные.** Эти цифры получены на смоделированном Алматы airfair, откалиброванном по "
              "открытым данным, а не по измерениям.",
        "kk": "**Синтетикалық деректер.** Бұл сандар өлшеулерден емес, ашық деректерге сәйкестендірілген airfair "
              "модельдік Алматысынан алынған.",
    },
    "partly_synthetic_banner": {
        "en": "**Partly synthetic.** The measurements are real ({source}); these parts are synthetic: {entries}.",
        "ru": "**Частично синтетические данные.** Измерения реальные ({source}); синтетические: {entries}.",
        "kk": "**Ішінара синтетикалық деректер.** Өлшеулер нақты ({source}); синтетикалық бөліктер: {entries}.",
    },
    "entry_districts": {"en": "district table", "ru": "таблица районов", "kk": "аудандар кестесі"},
    "entry_population_grid": {"en": "population grid", "ru": "сетка населения", "kk": "халық торы"},
    "entry_readings": {"en": "measurements", "ru": "измерения", "kk": "өлшеулер"},
    "entry_sensor_sites": {"en": "sensor sites", "ru": "посты", "kk": "бекеттер"},
    "no_data_period": {"en": "No data for this choice: showing nothing rather than guessing.",
                       "ru": "Для этого выбора нет данных: ничего не показываем, чтобы не гадать.",
                       "kk": "Бұл таңдау үшін деректер жоқ: болжамай, ештеңе көрсетпейміз."},
    "stylised_note": {"en": "District shapes are stylised drawings, not official boundaries.",
                      "ru": "Границы районов схематичны, это не официальные границы.",
                      "kk": "Аудан шекаралары схемалық, ресми шекаралар емес."},
    "source": {"en": "Source", "ru": "Источник", "kk": "Дереккөз"},
    "licence": {"en": "Licence", "ru": "Лицензия", "kk": "Лицензия"},
    "not_regulatory": {
        "en": "Official data: Kazhydromet reference stations. Low-cost sensors are indicative only.",
        "ru": "Официальные данные: эталонные станции Казгидромета. Данные недорогих датчиков — только ориентировочные.",
        "kk": "Ресми деректер: Қазгидромет эталондық бекеттері. Арзан датчиктер деректері тек бағдарлық.",
    },
    "download_csv": {"en": "Table (CSV)", "ru": "Таблица (CSV)", "kk": "Кесте (CSV)"},
    "download_geojson": {"en": "Map data (GeoJSON)", "ru": "Данные карты (GeoJSON)", "kk": "Карта деректері (GeoJSON)"},
    "download_png": {"en": "Map (PNG)", "ru": "Карта (PNG)", "kk": "Карта (PNG)"},
    "downloads": {"en": "Download what is shown", "ru": "Скачать показанное", "kk": "Көрсетілгенді жүктеу"},
    "share_link": {"en": "The address bar holds this view: copy it to share.",
                   "ru": "Адрес страницы хранит этот вид: скопируйте его, чтобы поделиться.",
                   "kk": "Бет мекенжайы осы көріністі сақтайды: бөлісу үшін көшіріңіз."},
    "tiles": {"en": "Basemap tiles (needs internet)", "ru": "Подложка карты (нужен интернет)",
              "kk": "Карта негізі (интернет қажет)"},
    "show_surface": {"en": "Show the surface under the districts", "ru": "Показать поверхность под районами",
                     "kk": "Аудандар астындағы бетті көрсету"},
    # selectors
    "pollutant": {"en": "Pollutant", "ru": "Загрязнитель", "kk": "Ластаушы"},
    "metric": {"en": "Metric", "ru": "Показатель", "kk": "Көрсеткіш"},
    "period": {"en": "Period", "ru": "Период", "kk": "Кезең"},
    "sensors": {"en": "Sensors", "ru": "Датчики", "kk": "Датчиктер"},
    "district": {"en": "District", "ru": "Район", "kk": "Аудан"},
    "metric_mean": {"en": "Population-weighted mean", "ru": "Средневзвешенная по населению концентрация",
                    "kk": "Халық саны бойынша орташа"},
    "metric_days_over": {"en": "Days over the WHO 24-h guideline", "ru": "Дни выше суточного норматива ВОЗ",
                         "kk": "ДДСҰ тәуліктік нормасынан асқан күндер"},
    "metric_person_days_over": {"en": "Person-days over the WHO 24-h guideline",
                                "ru": "Человеко-дни выше суточного норматива ВОЗ",
                                "kk": "ДДСҰ тәуліктік нормасынан асқан адам-күндер"},
    "period_year": {"en": "Calendar year", "ru": "Календарный год", "kk": "Күнтізбелік жыл"},
    "year": {"en": "Year", "ru": "Год", "kk": "Жыл"},
    "period_year_of": {"en": "Year {year}", "ru": "{year} год", "kk": "{year} жыл"},
    "period_heating_of": {"en": "Heating season {season} (15 Oct – 15 Apr)",
                          "ru": "Отопительный сезон {season} (15 окт – 15 апр)",
                          "kk": "Жылыту маусымы {season} (15 қаз – 15 сәу)"},
    "period_summer_of": {"en": "Summer {year} (Jun – Aug)", "ru": "Лето {year} (июнь – август)",
                         "kk": "Жаз {year} (маусым – тамыз)"},
    "period_hour_all_years": {"en": "Hour of day {h:02d}:00, all years", "ru": "Час суток {h:02d}:00, все годы",
                              "kk": "Тәулік сағаты {h:02d}:00, барлық жылдар"},
    "year_partial": {"en": "{year} (data on {share} % of days)", "ru": "{year} (данные за {share} % дней)",
                     "kk": "{year} (күндердің {share} %-ында дерек бар)"},
    "year_incomplete_note": {"en": "{year} is not a complete year: data on {share} % of its days (a complete year "
                                   "needs {need} %). Its figures cover those days only.",
                             "ru": "{year} — неполный год: данные за {share} % его дней (для полного года нужно "
                                   "{need} %). Показатели относятся только к этим дням.",
                             "kk": "{year} — толық емес жыл: оның күндерінің {share} %-ында ғана дерек бар (толық жыл "
                                   "үшін {need} % қажет). Көрсеткіштер тек сол күндерге қатысты."},
    "all_years": {"en": "all years", "ru": "все годы", "kk": "барлық жылдар"},
    "history_title": {"en": "Year by year", "ru": "По годам", "kk": "Жылдар бойынша"},
    "history_note": {"en": "Each year on its own; a heating season is listed under the year it ends in (2024/25 "
                           "under 2025). Days over: days the district's mean exceeded the WHO 24-h guideline.",
                     "ru": "Каждый год отдельно; отопительный сезон указан в году, в котором он заканчивается "
                           "(2024/25 — в 2025). Дни выше нормы: дни, когда среднее по району превышало суточный "
                           "норматив ВОЗ.",
                     "kk": "Әр жыл бөлек; жылыту маусымы аяқталатын жылында көрсетілген (2024/25 — 2025 жылы). "
                           "Нормадан асқан күндер: аудан бойынша орташа ДДСҰ тәуліктік нормасынан асқан күндер."},
    "annual_mean": {"en": "Annual mean", "ru": "Среднегодовое", "kk": "Жылдық орташа"},
    "heating_mean": {"en": "Heating-season mean", "ru": "Среднее за отопительный сезон",
                     "kk": "Жылыту маусымының орташасы"},
    "heating_season": {"en": "Heating season", "ru": "Отопительный сезон", "kk": "Жылыту маусымы"},
    "days_with_data": {"en": "Days with data", "ru": "Дней с данными", "kk": "Дерек бар күндер"},
    "heating_days_with_data": {"en": "Heating-season days with data", "ru": "Дней с данными в отопительный сезон",
                               "kk": "Жылыту маусымында дерек бар күндер"},
    "heating_days_over": {"en": "Heating-season days over", "ru": "Дней выше нормы в отопительный сезон",
                          "kk": "Жылыту маусымында нормадан асқан күндер"},
    "download_history": {"en": "District × year table (CSV)", "ru": "Таблица район × год (CSV)",
                         "kk": "Аудан × жыл кестесі (CSV)"},
    "period_heating": {"en": "Heating season (15 Oct – 15 Apr)", "ru": "Отопительный сезон (15 окт – 15 апр)",
                       "kk": "Жылыту маусымы (15 қаз – 15 сәу)"},
    "period_summer": {"en": "Summer (Jun – Aug)", "ru": "Лето (июнь – август)", "kk": "Жаз (маусым – тамыз)"},
    "period_hour": {"en": "Hour of day {h:02d}:00", "ru": "Час суток {h:02d}:00", "kk": "Тәулік сағаты {h:02d}:00"},
    "sensors_official": {"en": "Official stations only", "ru": "Только официальные станции",
                         "kk": "Тек ресми бекеттер"},
    "sensors_all": {"en": "All checked sensors", "ru": "Все проверенные датчики", "kk": "Барлық тексерілген датчиктер"},
    "sensors_fallback": {
        "en": "Low-cost sensors are calibrated for PM2.5 only: {parameter} comes from official stations.",
        "ru": "Недорогие датчики откалиброваны только для PM2.5: {parameter} — по официальным станциям.",
        "kk": "Арзан датчиктер тек PM2.5 үшін калибрленген: {parameter} ресми бекеттерден алынған.",
    },
    "hour_metric_note": {
        "en": "Days over the guideline are counted per day: for an hour of the day the map shows the mean.",
        "ru": "Дни выше норматива считаются по суткам: для часа суток карта показывает среднее.",
        "kk": "Нормадан асқан күндер тәулік бойынша саналады: тәулік сағаты үшін карта орташаны көрсетеді.",
    },
    # units and labels
    "unit_days": {"en": "days", "ru": "дней", "kk": "күн"},
    "unit_person_days": {"en": "person-days", "ru": "человеко-дней", "kk": "адам-күн"},
    "population": {"en": "Population", "ru": "Население", "kk": "Халық"},
    "official_sites": {"en": "Official stations", "ru": "Официальные станции", "kk": "Ресми бекеттер"},
    "lowcost_sites": {"en": "Low-cost sensors", "ru": "Недорогие датчики", "kk": "Арзан датчиктер"},
    "times_who": {"en": "× WHO annual guideline", "ru": "× годовой норматив ВОЗ", "kk": "× ДДСҰ жылдық нормасы"},
    "days_over": {"en": "Days over", "ru": "Дней выше нормы", "kk": "Нормадан асқан күн"},
    "share_over": {"en": "Share of person-days over", "ru": "Доля человеко-дней выше нормы",
                   "kk": "Нормадан асқан адам-күн үлесі"},
    "days_over_n": {"en": "{n} days over the guideline", "ru": "{n} дней выше норматива", "kk": "{n} күн нормадан жоғары"},
    "value": {"en": "Value", "ru": "Значение", "kk": "Мәні"},
    "map_title": {"en": "{metric}, {parameter} — {period}", "ru": "{metric}, {parameter} — {period}",
                  "kk": "{metric}, {parameter} — {period}"},
    "ranking_title": {"en": "Districts ranked", "ru": "Рейтинг районов", "kk": "Аудандар рейтингі"},
    "headline": {
        "en": "**{worst}** breathes {worst_value} of {parameter}, **{best}** {best_value}: {ratio}× as much. "
              "That is about {cigarettes} cigarettes a day in {worst}.",
        "ru": "**{worst}** дышит {worst_value} {parameter}, **{best}** — {best_value}: в {ratio} раза больше. "
              "Это примерно {cigarettes} сигарет в день в районе {worst}.",
        "kk": "**{worst}** {parameter} бойынша {worst_value} жұтады, **{best}** — {best_value}: {ratio} есе көп. "
              "Бұл {worst} ауданында күніне шамамен {cigarettes} темекіге тең.",
    },
    "headline_days": {
        "en": "**{worst}**: {worst_value} over the WHO 24-h guideline; **{best}**: {best_value}.",
        "ru": "**{worst}**: {worst_value} выше суточного норматива ВОЗ; **{best}**: {best_value}.",
        "kk": "**{worst}**: ДДСҰ тәуліктік нормасынан {worst_value} жоғары; **{best}**: {best_value}.",
    },
    "cigarette_note": {
        "en": "Cigarettes: Berkeley Earth's rule of thumb, 22 µg/m³ of PM2.5 for 24 hours ≈ one cigarette.",
        "ru": "Сигареты: эмпирическое правило Berkeley Earth, 22 мкг/м³ PM2.5 за сутки ≈ одна сигарета.",
        "kk": "Темекі: Berkeley Earth ережесі, тәулік бойы 22 мкг/м³ PM2.5 ≈ бір темекі.",
    },
    # fairness
    "fairness_title": {"en": "Is it fair?", "ru": "Справедливо ли это?", "kk": "Бұл әділ ме?"},
    "fifths_ratio": {
        "en": "The most exposed fifth of residents breathes **{ratio}×** what the least exposed fifth breathes.",
        "ru": "Пятая часть жителей с наибольшим воздействием дышит в **{ratio}** раза большей концентрацией, "
              "чем пятая часть с наименьшим.",
        "kk": "Ең көп әсер алатын тұрғындардың бестен бірі ең аз әсер алатын бестен бірінен **{ratio}** есе "
              "көп жұтады.",
    },
    "income_ratio": {
        "en": "The poorest fifth by income breathes **{ratio}×** what the richest fifth breathes.",
        "ru": "Беднейшая пятая часть по доходу дышит в **{ratio}** раза большей концентрацией, чем богатейшая.",
        "kk": "Табысы ең төмен бестен бір бөлік ең бай бестен бір бөліктен **{ratio}** есе көп жұтады.",
    },
    "index": {"en": "Index", "ru": "Индекс", "kk": "Индекс"},
    "meaning": {"en": "What it means", "ru": "Что это значит", "kk": "Мағынасы"},
    "equality": {"en": "equality", "ru": "равенство", "kk": "теңдік"},
    "lorenz": {"en": "Lorenz (Gini {gini})", "ru": "Лоренц (Джини {gini})", "kk": "Лоренц (Джини {gini})"},
    "lorenz_plain": {"en": "Lorenz curve", "ru": "кривая Лоренца", "kk": "Лоренц қисығы"},
    "by_income_plain": {"en": "by income, poorest first", "ru": "по доходу, от бедных", "kk": "табыс бойынша, кедейлерден"},
    "by_income": {"en": "by income, poorest first (CI {ci})", "ru": "по доходу, от бедных (ИК {ci})",
                  "kk": "табыс бойынша, кедейлерден (КИ {ci})"},
    "cum_residents": {"en": "cumulative share of residents", "ru": "накопленная доля жителей",
                      "kk": "тұрғындардың жинақталған үлесі"},
    "cum_exposure": {"en": "cumulative share of exposure", "ru": "накопленная доля воздействия",
                     "kk": "әсердің жинақталған үлесі"},
    "curves_title": {"en": "Who carries the exposure", "ru": "Кто несёт нагрузку", "kk": "Жүктемені кім көтереді"},
    "quintile": {"en": "Income fifth", "ru": "Пятая часть по доходу", "kk": "Табыс бойынша бестен бір"},
    "idx_mean exposure": {"en": "mean exposure", "ru": "среднее воздействие", "kk": "орташа әсер"},
    "idx_Gini": {"en": "Gini", "ru": "Джини", "kk": "Джини"},
    "idx_Theil T": {"en": "Theil T", "ru": "Тейл T", "kk": "Тейл T"},
    "idx_Theil T between groups": {"en": "Theil T between districts", "ru": "Тейл T между районами",
                                   "kk": "Тейл T аудандар арасында"},
    "idx_Theil T within groups": {"en": "Theil T within districts", "ru": "Тейл T внутри районов",
                                  "kk": "Тейл T аудандар ішінде"},
    "idx_Atkinson": {"en": "Atkinson ({p})", "ru": "Аткинсон ({p})", "kk": "Аткинсон ({p})"},
    "idx_Kolm–Pollak": {"en": "Kolm–Pollak ({p})", "ru": "Колм–Поллак ({p})", "kk": "Колм–Поллак ({p})"},
    "idx_concentration index (income)": {"en": "concentration index (income)", "ru": "индекс концентрации (доход)",
                                         "kk": "шоғырлану индексі (табыс)"},
    "mean_mean exposure": {"en": "population-weighted mean, µg/m³", "ru": "средневзвешенное по населению, мкг/м³",
                           "kk": "халық бойынша орташа, мкг/м³"},
    "mean_Gini": {"en": "0: everyone breathes the same air. The typical gap between two residents, relative to the mean.",
                  "ru": "0: все дышат одинаковым воздухом. Типичная разница между двумя жителями относительно среднего.",
                  "kk": "0: барлығы бірдей ауа жұтады. Екі тұрғын арасындағы әдеттегі айырма, орташаға қатысты."},
    "mean_Theil T": {"en": "0: equal. Grows as exposure concentrates on some residents.",
                     "ru": "0: равенство. Растёт, когда воздействие сосредоточено на части жителей.",
                     "kk": "0: теңдік. Әсер кейбір тұрғындарға шоғырланған сайын өседі."},
    "mean_Theil T between groups": {"en": "The part of Theil T due to differences between district means.",
                                    "ru": "Часть Тейла T из-за различий между средними по районам.",
                                    "kk": "Аудандар орташалары арасындағы айырмадан туатын Тейл T бөлігі."},
    "mean_Theil T within groups": {"en": "The part due to differences inside the districts.",
                                   "ru": "Часть из-за различий внутри районов.",
                                   "kk": "Аудандар ішіндегі айырмадан туатын бөлік."},
    "mean_Atkinson": {"en": "Share of the mean that could be given up for equality (treats exposure like a good: read with care).",
                      "ru": "Доля среднего, от которой можно отказаться ради равенства (считает воздействие благом: читать осторожно).",
                      "kk": "Теңдік үшін бас тартуға болатын орташаның үлесі (әсерді игілік ретінде қарайды: абайлап оқыңыз)."},
    "mean_Kolm–Pollak": {"en": "The equal exposure everyone would find as bad as the actual, unequal one, µg/m³ (≥ the mean).",
                         "ru": "Равное воздействие, столь же плохое, как фактическое неравное, мкг/м³ (≥ среднего).",
                         "kk": "Нақты тең емес әсермен бірдей жаман тең әсер, мкг/м³ (≥ орташа)."},
    "mean_concentration index (income)": {
        "en": "Below 0: the poorer breathe more; above 0: the richer; 0: no income gradient.",
        "ru": "Меньше 0: бедные дышат хуже; больше 0: богатые; 0: нет зависимости от дохода.",
        "kk": "0-ден кем: кедейлер көбірек жұтады; 0-ден көп: байлар; 0: табысқа тәуелділік жоқ."},
    # drill-down
    "drill_title": {"en": "{district}: a closer look", "ru": "{district}: подробнее", "kk": "{district}: толығырақ"},
    "drill_hint": {"en": "Click a district on the map (or pick it here) for its details.",
                   "ru": "Нажмите на район на карте (или выберите здесь), чтобы увидеть подробности.",
                   "kk": "Толығырақ көру үшін картадағы ауданды басыңыз (немесе осы жерден таңдаңыз)."},
    "daily_series": {"en": "Daily mean", "ru": "Среднесуточное значение", "kk": "Тәуліктік орташа"},
    "diurnal": {"en": "By hour of the day (local time)", "ru": "По часам суток (местное время)",
                "kk": "Тәулік сағаттары бойынша (жергілікті уақыт)"},
    "groups": {"en": "Who lives here", "ru": "Кто здесь живёт", "kk": "Мұнда кім тұрады"},
    "its_sensors": {"en": "Its sensors", "ru": "Датчики района", "kk": "Аудан датчиктері"},
    "city": {"en": "city", "ru": "город", "kk": "қала"},
    "guideline": {"en": "WHO 24-h guideline", "ru": "суточный норматив ВОЗ", "kk": "ДДСҰ тәуліктік нормасы"},
    "hour": {"en": "hour", "ru": "час", "kk": "сағат"},
    "date": {"en": "date", "ru": "дата", "kk": "күні"},
    "group": {"en": "Group", "ru": "Группа", "kk": "Топ"},
    "group_population": {"en": "Everyone", "ru": "Все жители", "kk": "Барлық тұрғындар"},
    "group_children_u5": {"en": "Children under 5", "ru": "Дети до 5 лет", "kk": "5 жасқа дейінгі балалар"},
    "group_elderly_65p": {"en": "People over 65", "ru": "Люди старше 65", "kk": "65 жастан асқандар"},
    "group_Q1 (poorest)": {"en": "Income fifth 1 (poorest)", "ru": "Доход: 1-я пятая часть (беднейшие)",
                           "kk": "Табыс: 1-бестен бір (ең кедей)"},
    "group_Q2": {"en": "Income fifth 2", "ru": "Доход: 2-я пятая часть", "kk": "Табыс: 2-бестен бір"},
    "group_Q3": {"en": "Income fifth 3", "ru": "Доход: 3-я пятая часть", "kk": "Табыс: 3-бестен бір"},
    "group_Q4": {"en": "Income fifth 4", "ru": "Доход: 4-я пятая часть", "kk": "Табыс: 4-бестен бір"},
    "group_Q5 (richest)": {"en": "Income fifth 5 (richest)", "ru": "Доход: 5-я пятая часть (богатейшие)",
                           "kk": "Табыс: 5-бестен бір (ең бай)"},
    "method": {
        "en": "**Method.** Daily means at each station (≥ 18 of 24 hours; readings that failed quality checks left "
              "out) are mapped to a 500 m population grid by {how}, then averaged over each district's residents. "
              "The method is chosen for each pollutant and set of sensors: the one with the lowest error when each "
              "reference station in turn is left out and predicted from the others.",
        "ru": "**Метод.** Среднесуточные значения на станциях (≥ 18 из 24 часов; не прошедшие проверку качества "
              "показания исключены) переносятся на сетку населения 500 м методом «{how}» и усредняются по жителям "
              "района. Метод выбирается для каждого загрязнителя и набора датчиков: тот, у которого ошибка меньше, "
              "когда каждая эталонная станция по очереди исключается и предсказывается по остальным.",
        "kk": "**Әдіс.** Бекеттердегі тәуліктік орташалар (24 сағаттың ≥ 18-і; сапа тексерісінен өтпеген "
              "көрсеткіштер алынып тасталған) «{how}» әдісімен 500 м халық торына көшіріледі, сосын аудан "
              "тұрғындары бойынша орташаланады. Әдіс әр ластаушы мен датчиктер жиыны үшін таңдалады: әр эталондық "
              "бекет кезекпен алынып, қалғандары бойынша болжанғанда қатесі ең аз әдіс.",
    },
    # map skill (leave-one-site-out cross-validation) and the "not resolved" mode
    "method_idw": {"en": "inverse-distance weighting of the stations' values",
                   "ru": "интерполяция значений станций обратными расстояниями",
                   "kk": "бекеттер мәндерін кері қашықтық әдісімен интерполяциялау"},
    "method_regression_idw": {
        "en": "a regression on elevation and ground-level emissions plus inverse-distance-weighted residuals",
        "ru": "регрессия по высоте и приземным выбросам с остатками, интерполированными обратными расстояниями",
        "kk": "биіктік пен жерге жақын шығарындылар бойынша регрессия және кері қашықтық әдісімен қалдықтар"},
    "method_regression_elevation_idw": {
        "en": "a regression on elevation plus inverse-distance-weighted residuals",
        "ru": "регрессия по высоте с остатками, интерполированными обратными расстояниями",
        "kk": "биіктік бойынша регрессия және кері қашықтық әдісімен қалдықтар"},
    "skill": {
        "en": "**How sure is this map?** Method: {method}. Each of the {n_sites} reference stations was left out in "
              "turn and predicted from the others: R² {r2} over the whole record; typical error of a daily value in "
              "this period {rmse} µg/m³ (RMSE, {n} station-days). The districts' means differ by up to {spread} µg/m³.",
        "ru": "**Насколько точна эта карта?** Метод: {method}. Каждая из {n_sites} эталонных станций по очереди "
              "исключалась и предсказывалась по остальным: R² {r2} за весь период данных; типичная ошибка "
              "среднесуточного значения в этом периоде {rmse} мкг/м³ (RMSE, {n} станцие-дней). Средние по районам "
              "различаются не более чем на {spread} мкг/м³.",
        "kk": "**Бұл карта қаншалықты дәл?** Әдіс: {method}. {n_sites} эталондық бекеттің әрқайсысы кезекпен алынып, "
              "қалғандары бойынша болжанды: барлық деректер бойынша R² {r2}; осы кезеңдегі тәуліктік мәннің әдеттегі "
              "қатесі {rmse} мкг/м³ (RMSE, {n} бекет-күн). Аудандардың орташалары ең көбі {spread} мкг/м³-ге ерекшеленеді.",
    },
    "skill_resolved": {
        "en": "The error is smaller than the differences between districts, and R² is at least {min_r2}: the districts "
              "are ranked.",
        "ru": "Ошибка меньше различий между районами, а R² не ниже {min_r2}: районы ранжированы.",
        "kk": "Қате аудандар арасындағы айырмашылықтан кіші, ал R² кемінде {min_r2}: аудандар рейтингі көрсетілген.",
    },
    "skill_unresolved": {
        "en": "**This network does not resolve differences between districts** for {parameter} in this period: {why}. "
              "Station values are shown instead of a ranking; the district map is an interpolation, not a measurement.",
        "ru": "**Эта сеть не позволяет различить районы** по {parameter} в этом периоде: {why}. Вместо рейтинга "
              "показаны значения станций; карта районов — интерполяция, а не измерение.",
        "kk": "**Бұл желі аудандар арасындағы айырмашылықты ажырата алмайды** ({parameter}, осы кезең): {why}. "
              "Рейтингтің орнына бекеттер мәндері көрсетілген; аудандар картасы — өлшеу емес, интерполяция.",
    },
    "why_rmse_exceeds_spread": {
        "en": "the map's error ({rmse} µg/m³) is larger than the differences between districts ({spread} µg/m³)",
        "ru": "ошибка карты ({rmse} мкг/м³) больше различий между районами ({spread} мкг/м³)",
        "kk": "картаның қатесі ({rmse} мкг/м³) аудандар арасындағы айырмашылықтан ({spread} мкг/м³) үлкен"},
    "why_r2_below_threshold": {
        "en": "at a station it did not see, the map explains too little of what was measured (R² {r2}, below {min_r2})",
        "ru": "на станции, которую карта не видела, она объясняет слишком мало измеренного (R² {r2}, ниже {min_r2})",
        "kk": "карта көрмеген бекетте өлшенгеннің тым аз бөлігін түсіндіреді (R² {r2}, {min_r2}-ден төмен)"},
    "why_no_cross_validation": {
        "en": "the map could not be tested (fewer than two stations measured on the same days)",
        "ru": "карту нельзя проверить (меньше двух станций с измерениями в одни и те же дни)",
        "kk": "картаны тексеру мүмкін емес (бір күндері өлшеген бекеттер екіден аз)"},
    "skill_excluded": {
        "en": "Not used with real measurements: {methods}, because the {covariates} they need come from synthetic "
              "grids here.",
        "ru": "Не использованы с реальными измерениями: {methods}, так как нужные им данные ({covariates}) здесь "
              "синтетические.",
        "kk": "Нақты өлшеулермен қолданылмады: {methods}, себебі оларға қажет деректер ({covariates}) мұнда "
              "синтетикалық."},
    "cov_elevation_km": {"en": "elevation", "ru": "высота", "kk": "биіктік"},
    "cov_log_emission": {"en": "ground-level emissions", "ru": "приземные выбросы", "kk": "жерге жақын шығарындылар"},
    "skill_synthetic_covariates": {
        "en": "The regression uses synthetic data: {entries}.",
        "ru": "Регрессия использует синтетические данные: {entries}.",
        "kk": "Регрессия синтетикалық деректерді пайдаланады: {entries}."},
    "entry_emissions_grid": {"en": "emission grid", "ru": "сетка выбросов", "kk": "шығарындылар торы"},
    "headline_unresolved": {
        "en": "{parameter}, {period}: the {n} stations measured {lo} to {hi} µg/m³ on average. This network does not "
              "resolve differences between districts.",
        "ru": "{parameter}, {period}: средние на {n} станциях — от {lo} до {hi} мкг/м³. Эта сеть не позволяет "
              "различить районы.",
        "kk": "{parameter}, {period}: {n} бекеттегі орташа мәндер {lo}–{hi} мкг/м³. Бұл желі аудандар арасындағы "
              "айырмашылықты ажырата алмайды.",
    },
    "fairness_unresolved": {
        "en": "**Read with care:** these figures come from the same map, and this network does not resolve differences "
              "between districts here (see beside the map). They describe the interpolation, not measured differences "
              "between residents.",
        "ru": "**Осторожно:** эти цифры получены по той же карте, а эта сеть здесь не позволяет различить районы (см. "
              "рядом с картой). Они описывают интерполяцию, а не измеренные различия между жителями.",
        "kk": "**Абайлап оқыңыз:** бұл сандар сол картадан алынған, ал бұл желі мұнда аудандар арасындағы "
              "айырмашылықты ажырата алмайды (картаның жанын қараңыз). Олар тұрғындар арасындағы өлшенген "
              "айырмашылықты емес, интерполяцияны сипаттайды.",
    },
    "stations_title": {"en": "Station values (not a district ranking)", "ru": "Значения станций (не рейтинг районов)",
                       "kk": "Бекеттер мәндері (аудандар рейтингі емес)"},
    "map_unresolved": {"en": "{title} (interpolated; districts not resolved)",
                       "ru": "{title} (интерполяция; районы не различимы)",
                       "kk": "{title} (интерполяция; аудандар ажыратылмайды)"},
    "km_to_station": {"en": "Mean distance to a station measuring it, km",
                      "ru": "Среднее расстояние до станции, измеряющей его, км",
                      "kk": "Оны өлшейтін бекетке дейінгі орташа қашықтық, км"},
    # network page
    "colour_by": {"en": "Colour sites by", "ru": "Цвет точек", "kk": "Нүктелер түсі"},
    "colour_aqi": {"en": "AQI category of the period's mean", "ru": "Категория AQI среднего за период",
                   "kk": "Кезең орташасының AQI санаты"},
    "colour_qc": {"en": "Quality-check status", "ru": "Статус проверки качества", "kk": "Сапа тексерісі күйі"},
    "site": {"en": "Site", "ru": "Пост", "kk": "Бекет"},
    "network": {"en": "Network", "ru": "Сеть", "kk": "Желі"},
    "official": {"en": "Official (Kazhydromet)", "ru": "Официальная (Казгидромет)", "kk": "Ресми (Қазгидромет)"},
    "indicative": {"en": "Indicative (low-cost)", "ru": "Ориентировочная (недорогой датчик)",
                   "kk": "Бағдарлық (арзан датчик)"},
    "sensor_model": {"en": "Sensor", "ru": "Прибор", "kk": "Құрал"},
    "qc_good": {"en": "Good (≥ 90 % of readings pass)", "ru": "Хорошо (≥ 90 % показаний проходят)",
                "kk": "Жақсы (көрсеткіштердің ≥ 90 %-ы өтеді)"},
    "qc_check": {"en": "Check (60–90 % pass)", "ru": "Проверить (60–90 % проходят)", "kk": "Тексеру (60–90 % өтеді)"},
    "qc_poor": {"en": "Poor (< 60 % pass)", "ru": "Плохо (< 60 % проходят)", "kk": "Нашар (< 60 % өтеді)"},
    "qc_no data": {"en": "No data", "ru": "Нет данных", "kk": "Деректер жоқ"},
    "aqi_no data": {"en": "No data", "ru": "Нет данных", "kk": "Деректер жоқ"},
    "site_hint": {"en": "Click a site on the map (or pick it here) for its history and quality report.",
                  "ru": "Нажмите на пост на карте (или выберите здесь), чтобы увидеть историю и отчёт о качестве.",
                  "kk": "Тарихы мен сапа есебін көру үшін картадағы бекетті басыңыз (немесе осы жерден таңдаңыз)."},
    "history": {"en": "History (daily means)", "ru": "История (среднесуточные)", "kk": "Тарих (тәуліктік орташа)"},
    "raw": {"en": "raw", "ru": "исходные", "kk": "бастапқы"},
    "calibrated": {"en": "calibrated", "ru": "откалиброванные", "kk": "калибрленген"},
    "calendar": {"en": "Calendar", "ru": "Календарь", "kk": "Күнтізбе"},
    "qc_report": {"en": "Quality report", "ru": "Отчёт о качестве", "kk": "Сапа есебі"},
    "capture": {"en": "Data capture, %", "ru": "Полнота данных, %", "kk": "Деректер толықтығы, %"},
    "pct_good": {"en": "Readings passing QC, %", "ru": "Показаний прошли проверку, %", "kk": "Тексерістен өткен, %"},
    "readings_n": {"en": "Readings", "ru": "Показаний", "kk": "Көрсеткіштер"},
    "equity_title": {"en": "Where monitoring is thin", "ru": "Где мониторинг слаб", "kk": "Мониторинг әлсіз жерлер"},
    "per_100k_official": {"en": "Official stations per 100,000", "ru": "Офиц. станций на 100 тыс.",
                          "kk": "100 мыңға ресми бекет"},
    "per_100k_lowcost": {"en": "Low-cost sensors per 100,000", "ru": "Недорогих датчиков на 100 тыс.",
                         "kk": "100 мыңға арзан датчик"},
    "km_to_official": {"en": "Mean distance to an official station, km", "ru": "Среднее расстояние до офиц. станции, км",
                       "kk": "Ресми бекетке дейінгі орташа қашықтық, км"},
    "blind_spots": {
        "en": "{people} residents ({share} %) live more than {km} km from an official station; "
              "{names} have none of their own.",
        "ru": "{people} жителей ({share} %) живут дальше {km} км от официальной станции; "
              "в районах {names} своей станции нет.",
        "kk": "{people} тұрғын ({share} %) ресми бекеттен {km} км-ден алыс тұрады; "
              "{names} аудандарында өз бекеті жоқ.",
    },
    "blind_spots_none": {
        "en": "{people} residents ({share} %) live more than {km} km from an official station; every district has one.",
        "ru": "{people} жителей ({share} %) живут дальше {km} км от официальной станции; станция есть в каждом районе.",
        "kk": "{people} тұрғын ({share} %) ресми бекеттен {km} км-ден алыс тұрады; әр ауданда бекет бар.",
    },
    "blind_layer": {"en": "Residents > {km} km from an official station", "ru": "Жители дальше {km} км от офиц. станции",
                    "kk": "Ресми бекеттен {km} км-ден алыс тұрғындар"},
    "sites_map_title": {"en": "{n} sites: {official} official, {lowcost} indicative",
                        "ru": "{n} постов: {official} официальных, {lowcost} ориентировочных",
                        "kk": "{n} бекет: {official} ресми, {lowcost} бағдарлық"},
    "reason_unknown_parameter": {"en": "unknown parameter", "ru": "неизвестный параметр", "kk": "белгісіз параметр"},
    "reason_unit_mismatch": {"en": "wrong unit", "ru": "неверная единица", "kk": "қате бірлік"},
    "reason_unknown_site": {"en": "unknown site", "ru": "неизвестный пост", "kk": "белгісіз бекет"},
    "reason_no_coordinates": {"en": "no coordinates", "ru": "нет координат", "kk": "координаттар жоқ"},
    "reason_missing_value": {"en": "missing value", "ru": "нет значения", "kk": "мән жоқ"},
    "reason_out_of_range": {"en": "implausible value", "ru": "неправдоподобное значение", "kk": "ықтимал емес мән"},
    "reason_duplicate": {"en": "duplicate time", "ru": "повтор времени", "kk": "уақыт қайталануы"},
    "reason_stuck": {"en": "stuck", "ru": "залипание", "kk": "тұрып қалу"},
    "reason_spike": {"en": "spike", "ru": "выброс", "kk": "шұғыл секіру"},
    "reason_pm25_gt_pm10": {"en": "PM2.5 > PM10", "ru": "PM2.5 > PM10", "kk": "PM2.5 > PM10"},
    "reason_humidity": {"en": "fog / humidity", "ru": "туман / влажность", "kk": "тұман / ылғалдылық"},
    "reason_drift": {"en": "drift", "ru": "дрейф", "kk": "дрейф"},
    "reason_time_shift": {"en": "clock shift", "ru": "сдвиг часов", "kk": "сағат ығысуы"},
    "reason_sentinel": {"en": "fill code (999 …)", "ru": "код-заполнитель (999 …)", "kk": "толтырғыш код (999 …)"},
    "reason_saturation": {"en": "at the analyser's ceiling", "ru": "у предела прибора", "kk": "аспап шегінде"},
    "reason_flat": {"en": "flat (dead analyser)", "ru": "плоский ряд (прибор не работает)",
                    "kk": "тегіс қатар (аспап істемейді)"},
    "reason_low_level": {"en": "implausibly low against the network", "ru": "неправдоподобно низко относительно сети",
                         "kk": "желімен салыстырғанда ықтимал емес төмен"},
    "reason_unit_jump": {"en": "unit jump (×1000)", "ru": "скачок единиц (×1000)", "kk": "бірлік секіруі (×1000)"},
    "reason_outlier": {"en": "far above the network", "ru": "намного выше сети", "kk": "желіден әлдеқайда жоғары"},
    "reason_level_shift": {"en": "level shift", "ru": "сдвиг уровня", "kk": "деңгей ығысуы"},
    "reason_inconsistent": {"en": "inconsistent with its neighbours", "ru": "не согласуется с соседями",
                            "kk": "көршілерімен сәйкес емес"},
    "reason_detection_limit": {"en": "at the detection limit", "ru": "на пределе обнаружения", "kk": "анықтау шегінде"},
    "pct_flagged": {"en": "Readings flagged, %", "ru": "Показаний с отметкой, %", "kk": "Белгіленген көрсеткіштер, %"},
    "no_site": {"en": "No site selected.", "ru": "Пост не выбран.", "kk": "Бекет таңдалмаған."},
}

# the Voices page (survey analysis, airfair.survey)
TEXT.update({
    "nav_voices": {"en": "What residents think", "ru": "Что думают жители", "kk": "Тұрғындар не ойлайды"},
    "voices_title": {"en": "What residents think, beside the air they breathe",
                     "ru": "Что думают жители — рядом с воздухом, которым они дышат",
                     "kk": "Тұрғындар не ойлайды — олар жұтатын ауамен қатар"},
    "survey_item": {"en": "Question", "ru": "Вопрос", "kk": "Сұрақ"},
    "survey_by": {"en": "Compare", "ru": "Сравнить", "kk": "Салыстыру"},
    "ci_method": {"en": "Interval", "ru": "Интервал", "kk": "Аралық"},
    "item_support_lez": {"en": "I support a low-emission zone (restrictions on polluting cars)",
                         "ru": "Я поддерживаю зону низких выбросов (ограничения для загрязняющих автомобилей)",
                         "kk": "Мен төмен шығарынды аймағын қолдаймын (ластайтын көліктерге шектеу)"},
    "item_concern_air_quality": {"en": "I am concerned about air quality", "ru": "Меня беспокоит качество воздуха",
                                 "kk": "Мені ауа сапасы алаңдатады"},
    "item_air_quality_rating": {"en": "How is the air where you live?", "ru": "Какой воздух там, где вы живёте?",
                                "kk": "Сіз тұратын жердегі ауа қандай?"},
    "top_agree": {"en": "agree or strongly agree", "ru": "согласны или полностью согласны",
                  "kk": "келіседі немесе толық келіседі"},
    "top_rating": {"en": "rate it poor or very poor", "ru": "оценивают его как плохой или очень плохой",
                   "kk": "оны нашар немесе өте нашар деп бағалайды"},
    "ans_agree_1": {"en": "Strongly disagree", "ru": "Совсем не согласен", "kk": "Мүлдем келіспеймін"},
    "ans_agree_2": {"en": "Disagree", "ru": "Не согласен", "kk": "Келіспеймін"},
    "ans_agree_3": {"en": "Neutral", "ru": "Нейтрально", "kk": "Бейтарап"},
    "ans_agree_4": {"en": "Agree", "ru": "Согласен", "kk": "Келісемін"},
    "ans_agree_5": {"en": "Strongly agree", "ru": "Полностью согласен", "kk": "Толық келісемін"},
    "ans_rating_1": {"en": "Very good", "ru": "Очень хороший", "kk": "Өте жақсы"},
    "ans_rating_2": {"en": "Good", "ru": "Хороший", "kk": "Жақсы"},
    "ans_rating_3": {"en": "Fair", "ru": "Удовлетворительный", "kk": "Қанағаттанарлық"},
    "ans_rating_4": {"en": "Poor", "ru": "Плохой", "kk": "Нашар"},
    "ans_rating_5": {"en": "Very poor", "ru": "Очень плохой", "kk": "Өте нашар"},
    "by_none": {"en": "Everyone", "ru": "Все", "kk": "Барлығы"},
    "by_district_id": {"en": "By district", "ru": "По районам", "kk": "Аудандар бойынша"},
    "by_respondent_type": {"en": "By respondent type", "ru": "По типу респондента", "kk": "Респондент түрі бойынша"},
    "by_age_band": {"en": "By age", "ru": "По возрасту", "kk": "Жас бойынша"},
    "by_income_band": {"en": "By income", "ru": "По доходу", "kk": "Табыс бойынша"},
    "by_car_age_band": {"en": "By car", "ru": "По автомобилю", "kk": "Көлік бойынша"},
    "everyone": {"en": "Everyone", "ru": "Все респонденты", "kk": "Барлық респонденттер"},
    "rtype_pedestrian": {"en": "Pedestrians", "ru": "Пешеходы", "kk": "Жаяу жүргіншілер"},
    "rtype_driver": {"en": "Drivers", "ru": "Водители", "kk": "Жүргізушілер"},
    "rtype_taxi_operator": {"en": "Taxi drivers", "ru": "Таксисты", "kk": "Такси жүргізушілері"},
    "car_no_car": {"en": "No car", "ru": "Без автомобиля", "kk": "Көлігі жоқ"},
    "car_2010_or_newer": {"en": "Car built 2010 or later", "ru": "Автомобиль 2010 года или новее",
                          "kk": "2010 жылғы немесе жаңа көлік"},
    "car_before_2010": {"en": "Car built before 2010", "ru": "Автомобиль старше 2010 года",
                        "kk": "2010 жылға дейін шыққан көлік"},
    "age_years": {"en": "{band} years", "ru": "{band} лет", "kk": "{band} жас"},
    "income_q": {"en": "Income fifth {q} of 5 (1 lowest)", "ru": "Доходная пятая часть {q} из 5 (1 — самая низкая)",
                 "kk": "Табыс бестен бірі: {q} / 5 (1 — ең төмен)"},
    "method_korn-graubard": {"en": "Korn–Graubard (exact, on the effective sample size)",
                             "ru": "Корна–Граубарда (точный, по эффективному объёму выборки)",
                             "kk": "Корн–Граубард (дәл, тиімді іріктеме көлемі бойынша)"},
    "method_wilson": {"en": "Wilson (on the effective sample size)", "ru": "Уилсона (по эффективному объёму выборки)",
                      "kk": "Уилсон (тиімді іріктеме көлемі бойынша)"},
    "method_logit": {"en": "Logit", "ru": "Логит", "kk": "Логит"},
    "col_group": {"en": "Group", "ru": "Группа", "kk": "Топ"},
    "col_respondents": {"en": "Respondents", "ru": "Респонденты", "kk": "Респонденттер"},
    "col_top": {"en": "{top}, % (95 % interval)", "ru": "{top}, % (95 % интервал)", "kk": "{top}, % (95 % аралық)"},
    "col_mean": {"en": "Mean on 1–5 (95 % interval)", "ru": "Среднее по шкале 1–5 (95 % интервал)",
                 "kk": "1–5 шкаласы бойынша орташа (95 % аралық)"},
    "voices_headline": {
        "en": "{share} % ({lo}–{hi} %) {top}: “{question}” ({n} respondents, weighted; effective sample size {neff}).",
        "ru": "{share} % ({lo}–{hi} %) {top}: «{question}» ({n} респондентов, со взвешиванием; эффективный объём "
              "выборки {neff}).",
        "kk": "{share} % ({lo}–{hi} %) {top}: «{question}» ({n} респондент, салмақталған; тиімді іріктеме көлемі "
              "{neff}).",
    },
    "suppressed_note": {
        "en": "— : not published: fewer than {min_n} respondents, or a figure that would reveal such a count.",
        "ru": "— : не публикуется: меньше {min_n} респондентов или число, по которому такую группу можно вычислить.",
        "kk": "— : жарияланбайды: {min_n} респонденттен аз немесе осындай топты анықтауға болатын сан.",
    },
    "test_text": {
        "en": "Does the share differ between groups? Rao–Scott design-adjusted test (second order): F = {F} on {ndf} "
              "and {ddf} degrees of freedom, p {p}.",
        "ru": "Различается ли доля между группами? Тест Рао–Скотта с поправкой на дизайн выборки (второго порядка): "
              "F = {F} при {ndf} и {ddf} степенях свободы, p {p}.",
        "kk": "Үлес топтар арасында өзгеше ме? Іріктеме дизайнына түзетілген Рао–Скотт тесті (екінші рет): "
              "F = {F}, еркіндік дәрежелері {ndf} және {ddf}, p {p}.",
    },
    "test_differs": {"en": "The groups differ more than chance would explain (p < 0.05).",
                     "ru": "Группы различаются сильнее, чем объясняется случайностью (p < 0,05).",
                     "kk": "Топтар кездейсоқтықпен түсіндірілетіннен көбірек ерекшеленеді (p < 0,05)."},
    "test_same": {"en": "No difference beyond chance at the 5 % level.",
                  "ru": "Различий сверх случайных на уровне 5 % нет.",
                  "kk": "5 % деңгейінде кездейсоқтықтан тыс айырмашылық жоқ."},
    "test_sparse": {"en": "Some groups are small (expected counts under 5): read the test with care.",
                    "ru": "Некоторые группы малы (ожидаемые частоты меньше 5): тест следует читать осторожно.",
                    "kk": "Кейбір топтар шағын (күтілетін жиіліктер 5-тен аз): тестті абайлап оқыңыз."},
    "cross_title": {"en": "Districts: what residents say beside the air measured there",
                    "ru": "Районы: что говорят жители рядом с измеренным там воздухом",
                    "kk": "Аудандар: тұрғындар пікірі мен сол жерде өлшенген ауа"},
    "col_support": {"en": "Support an LEZ, % (95 % interval)", "ru": "Поддерживают ЗНВ, % (95 % интервал)",
                    "kk": "ТША қолдайды, % (95 % аралық)"},
    "col_heating_pm25": {"en": "PM2.5, heating season {season}, µg/m³", "ru": "PM2.5, отопительный сезон {season}, мкг/м³",
                         "kk": "PM2.5, жылыту маусымы {season}, мкг/м³"},
    "col_poor": {"en": "Rate their air poor, % (95 % interval)", "ru": "Считают воздух плохим, % (95 % интервал)",
                 "kk": "Ауаны нашар деп санайды, % (95 % аралық)"},
    "col_annual_pm25": {"en": "PM2.5, year {year}, µg/m³", "ru": "PM2.5, {year} год, мкг/м³",
                        "kk": "PM2.5, {year} жыл, мкг/м³"},
    "cross_corr": {
        "en": "Rank correlation over the {k} districts published: support vs heating-season PM2.5 ρ = {rho_support}; "
              "air rated poor vs annual PM2.5 ρ = {rho_poor}.",
        "ru": "Ранговая корреляция по {k} опубликованным районам: поддержка и PM2.5 отопительного сезона ρ = "
              "{rho_support}; оценка воздуха как плохого и годовой PM2.5 ρ = {rho_poor}.",
        "kk": "Жарияланған {k} аудан бойынша рангтік корреляция: қолдау мен жылыту маусымының PM2.5 ρ = "
              "{rho_support}; ауаны нашар деп бағалау мен жылдық PM2.5 ρ = {rho_poor}.",
    },
    "ecological_caveat": {
        "en": "These are district figures set side by side, not people: that a more exposed district says something "
              "more often does not show that its more exposed residents do (the ecological fallacy). With a handful "
              "of districts a rank correlation describes, it does not prove.",
        "ru": "Это показатели районов, поставленные рядом, а не люди: если в более загрязнённом районе что-то говорят "
              "чаще, это не значит, что так говорят именно более подверженные жители (экологическая ошибка). "
              "По нескольким районам ранговая корреляция описывает, но не доказывает.",
        "kk": "Бұл адамдар емес, қатар қойылған аудан көрсеткіштері: ластанған ауданда бір нәрсе жиірек айтылса, "
              "оны дәл сол ластанған ауаны жұтатын тұрғындар айтады деген сөз емес (экологиялық қателік). "
              "Бірнеше аудан бойынша рангтік корреляция сипаттайды, дәлелдемейді.",
    },
    "no_pm25_cross": {"en": "These data hold no PM2.5 surfaces: the crossing with exposure is not shown.",
                      "ru": "В этих данных нет поверхностей PM2.5: сопоставление с воздействием не показано.",
                      "kk": "Бұл деректерде PM2.5 беттері жоқ: әсермен салыстыру көрсетілмейді."},
    "survey_synthetic_banner": {
        "en": "**Synthetic survey.** These answers come from simulated respondents calibrated to a published "
              "survey, not from real people.",
        "ru": "**Синтетический опрос.** Эти ответы получены от смоделированных респондентов, откалиброванных по "
              "опубликованному опросу, а не от реальных людей.",
        "kk": "**Синтетикалық сауалнама.** Бұл жауаптар нақты адамдардан емес, жарияланған сауалнамаға "
              "сәйкестендірілген модельдік респонденттерден алынған.",
    },
    "voices_method": {
        "en": "Shares and means are weighted by the survey's design weights; intervals: {method}, as R's "
              "survey::svyciprop computes them; means with a t interval. Every published figure rests on at least "
              "{min_n} respondents: smaller counts, and any figure that would reveal one, are suppressed.",
        "ru": "Доли и средние взвешены весами дизайна опроса; интервалы: {method}, как их вычисляет "
              "survey::svyciprop в R; средние — с t-интервалом. Каждое опубликованное число опирается не менее чем "
              "на {min_n} респондентов: меньшие группы и числа, по которым их можно вычислить, скрыты.",
        "kk": "Үлестер мен орташалар сауалнама дизайнының салмақтарымен есептелген; аралықтар: {method}, R "
              "survey::svyciprop есептейтіндей; орташалар — t-аралықпен. Әр жарияланған сан кемінде {min_n} "
              "респондентке сүйенеді: аз топтар және оларды анықтауға болатын сандар жасырылған.",
    },
    "download_crossing": {"en": "Districts and exposure (CSV)", "ru": "Районы и воздействие (CSV)",
                          "kk": "Аудандар және әсер (CSV)"},
})

_PARAMETERS = {"pm25": "PM2.5", "pm10": "PM10", "no2": "NO₂", "so2": "SO₂", "o3": "O₃", "co": "CO"}
_UNITS = {"en": "µg/m³", "ru": "мкг/м³", "kk": "мкг/м³"}


def t(key: str, lang: str = "en", **values) -> str:
    """The text of ``key`` in ``lang`` (English when missing), with ``{placeholders}`` filled.

    Raises
    ------
    KeyError
        For a key that is in no language: a typo in the code, not a missing translation.
    """
    entry = TEXT[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text


def month(m: int, lang: str = "en") -> str:
    """Name of calendar month ``m`` (1–12)."""
    return _MONTHS.get(lang, _MONTHS["en"])[m - 1]


def period_label(period: str, lang: str = "en", year: int | None = None) -> str:
    """Label of a period key of :data:`airfair.views.PERIODS` ("year", "heating", "summer", "mMM", "hHH"),
    in ``year`` when one is given ("Year 2025", "Heating season 2024/25 (15 Oct – 15 Apr)", "January
    2025"; an hour of the day is over all years and says so)."""
    if year is None or not np.isfinite(float(year)):
        if period.startswith("m") and period[1:].isdigit():
            return month(int(period[1:]), lang)
        if period.startswith("h") and period[1:].isdigit():
            return t("period_hour", lang, h=int(period[1:]))
        return t(f"period_{period}", lang)
    year = int(year)
    if period.startswith("m") and period[1:].isdigit():
        return f"{month(int(period[1:]), lang)} {year}"
    if period.startswith("h") and period[1:].isdigit():
        return t("period_hour_all_years", lang, h=int(period[1:]))
    if period == "heating":
        return t("period_heating_of", lang, season=f"{year - 1}/{year % 100:02d}")
    return t(f"period_{period}_of", lang, year=year)


def parameter_label(parameter: str, lang: str = "en", unit: bool = True) -> str:
    """'PM2.5 (µg/m³)' / 'PM2.5 (мкг/м³)'."""
    name = _PARAMETERS.get(parameter, parameter)
    return f"{name} ({_UNITS.get(lang, _UNITS['en'])})" if unit else name


def district_name(districts, district_id: str, lang: str = "en") -> str:
    """A district's name in ``lang`` from the ``districts`` table."""
    col = f"name_{lang}" if f"name_{lang}" in districts else "name_en"
    ids = districts["district_id"].to_numpy()
    hit = np.flatnonzero(ids == district_id)  # a plain array lookup: called for every label of every page
    return str(districts[col].iloc[hit[0]]) if len(hit) else district_id


def index_label(name: str, lang: str = "en") -> tuple[str, str]:
    """Name and plain-words meaning of an :func:`airfair.inequality.indices` row in ``lang``."""
    base, _, param = name.partition(" (")
    param = param.rstrip(")")
    if f"idx_{name}" in TEXT:
        return t(f"idx_{name}", lang), t(f"mean_{name}", lang)
    if f"idx_{base}" in TEXT:
        return t(f"idx_{base}", lang, p=param), t(f"mean_{base}", lang)
    return name, ""


__all__ = ["LANGUAGES", "TEXT", "district_name", "index_label", "month", "parameter_label", "period_label", "t"]
