package io.machxp.pager.store;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The text of the futex holders' journal ({@value FilePageStore#HOLDERS}), written and read.
 *
 * <pre>
 *  machxp-holders TAB 2 TAB crc            the format (checked lines, since checksums came)
 *  offset TAB kernel TAB object TAB crc    one a futex checked out (kernel and object URL-encoded)
 *  end TAB count TAB crc                   the last line: how many came before it
 * </pre>
 * Each line ends with the CRC32C of what comes before it on the line ({@link CheckedText}). The
 * journal is never appended to: it is written whole to a new file, forced, then renamed over the
 * old one, so the pager never acts on an entry whose write could have been cut short by a crash
 * (the new file is not the journal until its rename). A journal that is cut short or damaged was
 * so after it was written: that is damage, not a torn write, and reading it fails. A pager that
 * forgot a holder could give its futex a second owner.
 *
 * <p>A journal without the first line is of the format before checksums (lines of offset, kernel
 * and object): read unchecked only in a store upgraded from that format, where a line that is
 * not of three fields or whose offset is not a number fails as damage too. In a store created
 * in the checked format, such a journal, or an empty one, is damage.
 */
final class HoldersFile {
    static final String FORMAT_LINE = "machxp-holders\t2";
    private static final String END = "end";

    private HoldersFile() {}

    /** The journal's text for {@code holders}, in order. */
    static String text(Collection<PageStore.Holder> holders) {
        StringBuilder text = new StringBuilder(64 * (holders.size() + 2));
        text.append(CheckedText.line(FORMAT_LINE)).append('\n');
        for (PageStore.Holder h : holders) {
            text.append(CheckedText.line(h.offset() + "\t" + URLEncoder.encode(h.kernel(), StandardCharsets.UTF_8)
                    + "\t" + URLEncoder.encode(h.object(), StandardCharsets.UTF_8))).append('\n');
        }
        text.append(CheckedText.line(END + "\t" + holders.size())).append('\n');
        return text.toString();
    }

    /**
     * The holders in {@code text}, the journal read from {@code file}, in order.
     *
     * @throws StoreDamage if it is cut short or damaged, saying where and what to do
     */
    static List<PageStore.Holder> parse(String text, Path file, boolean oldSyntax) {
        try {
            CheckedText.requireLineEnd(text, "the futex holders' journal " + file);
            String[] lines = text.isEmpty() ? new String[0] : text.split("\n", -1);
            int count = text.isEmpty() ? 0 : lines.length - 1; // the text ends with a line end
            boolean checked = count > 0 && lines[0].startsWith(FORMAT_LINE.substring(0, FORMAT_LINE.indexOf('\t')));
            if (!checked && !oldSyntax) {
                throw new StoreDamage("the futex holders' journal " + file + " is damaged: " + (text.isEmpty()
                        ? "it is empty" : "its first line is not '" + FORMAT_LINE.replace('\t', ' ') + "' with its "
                        + "checksum but '" + CheckedText.shown(lines[0]) + "'") + " (this store was created in the "
                        + "checked format, whose journal always begins with that line and ends with a count)");
            }
            List<PageStore.Holder> holders = new ArrayList<>();
            int first = 0;
            if (checked) {
                String format = CheckedText.body(lines[0], where(file, 1));
                if (!format.equals(FORMAT_LINE)) {
                    throw new StoreDamage(where(file, 1) + " names the format '" + CheckedText.shown(format)
                            + "', which this pager does not know (it knows '" + FORMAT_LINE.replace('\t', ' ')
                            + "'): a newer pager wrote it");
                }
                first = 1;
            }
            boolean ended = false;
            for (int i = first; i < count; i++) {
                String body = checked ? CheckedText.body(lines[i], where(file, i + 1)) : lines[i];
                String[] f = body.split("\t", -1);
                if (checked && f[0].equals(END) && f.length == 2) {
                    long n = CheckedText.number(f[1], where(file, i + 1), "the count of entries");
                    if (n != holders.size() || i != count - 1) {
                        throw new StoreDamage(where(file, i + 1) + " is damaged: it says " + n + " entries came before "
                                + "it, " + holders.size() + " did, and " + (count - 1 - i) + " lines follow it");
                    }
                    ended = true;
                    continue;
                }
                if (f.length != 3) {
                    throw new StoreDamage(where(file, i + 1) + " is damaged: it has " + f.length + " fields, not 3 "
                            + "(offset, kernel, object): '" + CheckedText.shown(body) + "'");
                }
                long offset = CheckedText.number(f[0], where(file, i + 1), "the futex's offset");
                holders.add(new PageStore.Holder(decode(f[2], file, i + 1), offset, decode(f[1], file, i + 1)));
            }
            if (checked && !ended) {
                throw new StoreDamage("the futex holders' journal " + file + " is damaged: it is cut short (its last "
                        + "line, 'end' with the count of entries, is missing after line " + count + ")");
            }
            return holders;
        } catch (StoreDamage e) {
            throw new StoreDamage(e.getMessage() + ". The pager does not start: forgetting a holder could give its "
                    + "futex a second owner. Restore the file from a backup; or, only if no kernel of the last pager "
                    + "still runs (none holds a futex), delete it");
        }
    }

    private static String decode(String field, Path file, int line) {
        try {
            return URLDecoder.decode(field, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new StoreDamage(where(file, line) + " is damaged: '" + CheckedText.shown(field) + "' is not a "
                    + "URL-encoded name: " + e.getMessage());
        }
    }

    private static String where(Path file, int line) {
        return "line " + line + " of the futex holders' journal " + file;
    }
}
