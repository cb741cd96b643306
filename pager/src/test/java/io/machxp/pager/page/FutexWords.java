package io.machxp.pager.page;

import static io.machxp.pager.page.XpKernels.PAGE;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Test support for the tests of dead kernels' futex words (xp-spec 2.5, 8.7): the word's bits,
 * reading and writing a word in a page, and a kernel that owns a futex while the pager's copy of
 * its page carries a given word.
 */
final class FutexWords {
    static final int WAITERS = 0x80000000;
    static final int OWNER_DIED = 0x40000000;

    private FutexWords() {}

    static int wordAt(byte[] page, long offset) {
        return page.length == 0 ? 0 : ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN).getInt((int) offset);
    }

    static byte[] pageWithWord(long offset, int word) {
        byte[] page = new byte[PAGE];
        ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN).putInt((int) offset, word);
        return page;
    }

    /**
     * {@code kernel} locks {@code futex} (granted), takes page 0 writable and returns it dirty with
     * {@code word} at the futex: the pager's copy then carries that word while the kernel owns it.
     */
    static void ownedWithWordInPagersCopy(XpKernels k, long kernel, long futex, int word) {
        k.lockFutex(kernel, futex);
        assertThat(k.one(kernel).hasMemoryObjectFutexGranted()).isTrue();
        k.write(kernel, 0);
        k.take(kernel);
        k.returnDirty(kernel, 0, pageWithWord(futex, word), false);
    }
}
