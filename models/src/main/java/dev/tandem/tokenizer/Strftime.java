package dev.tandem.tokenizer;

import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.Locale;

/**
 * Python's {@code datetime.strftime} in the C locale, for templates that print today's date: the common
 * directives ({@code %d %m %y %Y %b %B %a %A %H %I %M %S %p %j %e %Z %z %%}) and glibc's {@code %-d} (no padding).
 */
final class Strftime {
    private Strftime() {
    }

    static String format(String format, ZonedDateTime t) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                out.append(c);
                continue;
            }
            char d = format.charAt(++i);
            boolean pad = true;
            if (d == '-' && i + 1 < format.length()) {
                pad = false;
                d = format.charAt(++i);
            }
            switch (d) {
                case 'd' -> out.append(num(t.getDayOfMonth(), 2, pad));
                case 'e' -> out.append(pad ? String.format("%2d", t.getDayOfMonth()) : t.getDayOfMonth());
                case 'm' -> out.append(num(t.getMonthValue(), 2, pad));
                case 'y' -> out.append(num(t.getYear() % 100, 2, pad));
                case 'Y' -> out.append(t.getYear());
                case 'b', 'h' -> out.append(t.getMonth().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'B' -> out.append(t.getMonth().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'a' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'A' -> out.append(t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.ENGLISH));
                case 'H' -> out.append(num(t.getHour(), 2, pad));
                case 'I' -> out.append(num(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, 2, pad));
                case 'M' -> out.append(num(t.getMinute(), 2, pad));
                case 'S' -> out.append(num(t.getSecond(), 2, pad));
                case 'p' -> out.append(t.getHour() < 12 ? "AM" : "PM");
                case 'j' -> out.append(num(t.getDayOfYear(), 3, pad));
                case 'Z' -> out.append(t.getZone().getDisplayName(TextStyle.SHORT, Locale.ENGLISH));
                case 'z' -> out.append(t.getOffset().getId().equals("Z") ? "+0000" : t.getOffset().getId().replace(":", ""));
                case '%' -> out.append('%');
                default -> out.append('%').append(pad ? "" : "-").append(d);
            }
        }
        return out.toString();
    }

    private static String num(int v, int width, boolean pad) {
        String s = Integer.toString(v);
        return pad && s.length() < width ? "0".repeat(width - s.length()) + s : s;
    }
}
