package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import io.machxp.proto.xp.PageData;
import org.junit.jupiter.api.Test;

class PageBytesTest {
    private static byte[] bytes(int n, int first) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (first + i);
        }
        return b;
    }

    @Test
    void aParsedPageIsTakenWithoutACopy() throws Exception {
        byte[] sent = bytes(4096, 1);
        PageData parsed = PageData.parseFrom(PageData.newBuilder().setData(ByteString.copyFrom(sent)).build()
                .toByteArray());

        byte[] page = PageBytes.array(parsed.getData());

        assertThat(page).isEqualTo(sent);
        assertThat(PageBytes.array(parsed.getData())).as("the ByteString's own array, each time").isSameAs(page);
    }

    @Test
    void aPartOfALargerArrayOrSeveralPiecesAreCopied() {
        byte[] big = bytes(100, 0);
        ByteString part = ByteString.copyFrom(big).substring(10, 30);
        ByteString rope = ByteString.copyFrom(bytes(600, 0)).concat(ByteString.copyFrom(bytes(600, 7)));

        assertThat(PageBytes.array(part)).isEqualTo(bytes(20, 10));
        assertThat(PageBytes.array(rope)).hasSize(1200).startsWith(bytes(600, 0)).endsWith(bytes(600, 7));
        assertThat(PageBytes.array(ByteString.EMPTY)).isEmpty();
    }

    @Test
    void aPageSentIsTheArrayItself() {
        byte[] page = bytes(64, 3);
        ByteString wrapped = PageBytes.wrap(page);

        assertThat(wrapped.toByteArray()).isEqualTo(page);
        assertThat(PageBytes.array(wrapped)).isSameAs(page);
    }
}
