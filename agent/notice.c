/*
 * notice.c — see notice.h.  The text is a constant: what it says about
 * traffic, data and stopping must follow docs/VOLUNTEERS.md (whose
 * sections "What you take on" and "Что вы на себя берёте" it
 * summarises) whenever either changes.
 */
#include "notice.h"

static const char notice[] =
"Zond volunteer notice. Read it before you answer yes.\n"
"\n"
"This device will test, every 15 to 30 minutes, whether messengers,\n"
"calls, YouTube, VPN protocols and some news sites can be reached from\n"
"your connection, and send each result, signed, to the operator: what\n"
"was tested, when, and what happened (about 0.5 GB a day, estimated).\n"
"It never looks at your browsing or at others' traffic; it bypasses no\n"
"block. The operator sees your IP address when the agent connects.\n"
"Published: region, network (ASN), mobile or fixed; never your IP.\n"
"Each record is signed with this device's key: whoever holds the\n"
"operator's registry or sees this device can tie the records to it.\n"
"Running measurement software in Russia carries legal risk: read\n"
"docs/VOLUNTEERS.md first (/usr/share/doc/zond-agent/VOLUNTEERS.md).\n"
"Stop: sudo systemctl disable --now zond-agent\n"
"Wipe: sudo apt purge zond-agent (removes key, outbox and config)\n"
"\n"
"Уведомление для добровольца Zond. Прочтите, прежде чем ответить yes.\n"
"\n"
"Это устройство будет каждые 15-30 минут проверять, доступны ли с\n"
"вашего подключения мессенджеры, звонки, YouTube, VPN-протоколы и\n"
"новостные сайты, и отправлять оператору каждый результат с подписью:\n"
"что проверялось, когда и чем закончилось (около 0,5 ГБ в сутки, оценка).\n"
"Историю браузера и чужой трафик агент не видит, блокировки не обходит.\n"
"Оператор видит ваш IP-адрес, когда агент подключается. Публикуются\n"
"регион, сеть (ASN) и её тип, мобильная или фиксированная; IP — никогда.\n"
"Каждая запись подписана ключом этого устройства: тот, у кого реестр\n"
"оператора или доступ к устройству, может связать записи с ним.\n"
"Запуск измерительных программ в России связан с юридическим риском:\n"
"сначала прочтите docs/VOLUNTEERS.md (/usr/share/doc/zond-agent/).\n"
"Остановить: sudo systemctl disable --now zond-agent\n"
"Стереть: sudo apt purge zond-agent (удалит ключ, очередь и настройки)\n";

const char *
volunteer_notice(void)
{
	return notice;
}
