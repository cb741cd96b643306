package io.machxp.pager.page;

import static org.assertj.core.api.Assertions.assertThat;

import io.machxp.pager.core.PagerOptions;
import io.machxp.pager.store.MemoryPageStore;
import io.machxp.proto.text.Utf8Order;
import io.machxp.proto.xp.KernelHello;
import io.machxp.proto.xp.KernelToPager;
import io.machxp.proto.xp.MemoryObjectDestroy;
import io.machxp.proto.xp.MemoryObjectInit;
import io.machxp.proto.xp.ObjectDispute;
import io.machxp.proto.xp.PagerDirectoryView;
import io.machxp.proto.xp.PagerToKernel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * The welcome's list of objects in dispute is bounded in bytes, not only in count (late13-review
 * LOW-4): a pager serves catalog names of any length, and 1,024 long ones made a welcome past
 * gRPC's 4 MiB, which the kernel's stream fails on with a bare RESOURCE_EXHAUSTED. The list stays
 * within 2 MiB of names and reasons, or the hello is refused with a sentence; each reason is at
 * most 1,024 bytes (xp-spec 12.43), the object's name being in the {@code object} field only; the
 * list is in UTF-8 byte order (xp-spec 2.8); an init's refusal names the views' sizes, never their
 * assignments (dir2-review L2).
 */
class DirectoryWelcomeBytesTest {
    private static final long LEASE = 1_000_000_000L;
    private static final PagerDirectoryView ONE = PagerDirectoryView.newBuilder().setPagerCount(1).setPagerIndex(0).build();

    private static IntFunction<String> longNames(int chars) {
        return i -> String.format("data/tenant-%05d/", i) + "x".repeat(chars);
    }

    private static XpKernels pager(List<String> names) {
        Map<String, Long> served = new TreeMap<>();
        names.forEach(n -> served.put(n, XpKernels.SIZE));
        return new XpKernels(new MemoryPageStore(), new PagerOptions(LEASE, 3), 0, served);
    }

    private static List<String> names(IntFunction<String> name, int count) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            names.add(name.apply(i));
        }
        return names;
    }

    /** A kernel {@code kernel} given only this pager, which maps {@code objects}. */
    private static void wrongUser(XpKernels y, long session, String kernel, List<String> objects) {
        y.pager.sessionOpened(session);
        y.xp(session, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName(kernel)
                .setProtocolVersion(1).setDirectory(ONE).addFeatures("directory_disputes")));
        y.take(session);
        for (int i = 0; i < objects.size(); i++) {
            y.xp(session, KernelToPager.newBuilder().setMemoryObjectInit(MemoryObjectInit.newBuilder()
                    .setObjectId(i + 1).setName(objects.get(i)).setPageSize(XpKernels.PAGE)));
        }
        assertThat(y.take(session)).allMatch(PagerToKernel::hasMemoryObjectReady);
    }

    /**
     * A hello of {@code kernel}, whose view of 2 pagers sends {@code objects} to pager 1: its
     * assignments sorted by object name in UTF-8 byte order, as a kernel states them (xp-spec 2.8,
     * 12.41; {@link Utf8Order}, as PagerDirectory does), not by the whole "object=1" strings in
     * UTF-16 order (dir3-review LOW-4).
     */
    private static KernelHello good(String kernel, List<String> objects) {
        List<String> as = new ArrayList<>();
        objects.stream().sorted(Utf8Order.NAMES).forEach(o -> as.add(o + "=1"));
        return KernelHello.newBuilder().setKernelName(kernel).setProtocolVersion(1).addFeatures("directory_disputes")
                .setDirectory(PagerDirectoryView.newBuilder().setPagerCount(2).setPagerIndex(0).addAllAssignments(as))
                .build();
    }

    @Test
    void longCatalogNamesPastTheByteBudgetRefuseTheHelloWithASentence() {
        List<String> objects = names(longNames(2100), 1024);
        XpKernels y = pager(objects);
        wrongUser(y, 1, "wrong", objects);
        y.pager.sessionOpened(3);
        y.xp(3, KernelToPager.newBuilder().setKernelHello(good("good", objects)));
        List<PagerToKernel> got = y.take(3);
        assertThat(got).as("no welcome past the budget (it was 4,760,596 bytes, past gRPC's 4 MiB)").isEmpty();
        String end = y.ended.get(3L);
        assertThat(end).contains("EINVAL", "'good'", "in dispute", "more than 2 MiB", "the first, object 'data/tenant-00000/");
        assertThat(end.getBytes(StandardCharsets.UTF_8).length).as("a status description").isLessThan(2048);
    }

    @Test
    void longNamesWithinTheBudgetAreListedBelowIt() {
        List<String> objects = names(longNames(1000), 1024);
        XpKernels y = pager(objects);
        wrongUser(y, 1, "wrong", objects);
        y.pager.sessionOpened(3);
        y.xp(3, KernelToPager.newBuilder().setKernelHello(good("good", objects)));
        PagerToKernel w = y.take(3).get(0);
        assertThat(w.getPagerWelcome().getDisputesCount()).isEqualTo(1024);
        assertThat(w.getSerializedSize()).isLessThan((2 << 20) + 1024 * 16);
        assertThat(y.ended).isEmpty();
    }

    @Test
    void aReasonIsAtMost1024BytesAndLeavesTheNameToTheObjectField() {
        String object = "é".repeat(255); // machxp's kernel's longest name, two bytes a character
        String w = "w".repeat(64);
        String g = "g".repeat(64);
        XpKernels y = pager(List.of(object));
        wrongUser(y, 1, w, List.of(object));
        y.pager.sessionOpened(3);
        y.xp(3, KernelToPager.newBuilder().setKernelHello(good(g, List.of(object))));
        ObjectDispute d = y.take(3).get(0).getPagerWelcome().getDisputes(0);
        assertThat(d.getObject()).isEqualTo(object);
        assertThat(d.getReason()).doesNotContain("éé").contains("'" + w + "'", "'" + g + "'", "uses it there");
        assertThat(d.getReason().getBytes(StandardCharsets.UTF_8).length).as(d.getReason()).isLessThanOrEqualTo(1024);
    }

    @Test
    void theListIsInUtf8ByteOrder() {
        String fullwidth = "\uFF21"; // U+FF21: UTF-8 EF BC A1
        String emoji = "\uD83D\uDE00"; // U+1F600: UTF-8 F0 9F 98 80, but UTF-16 D83D sorts first
        List<String> objects = List.of(emoji, fullwidth);
        XpKernels y = pager(objects);
        wrongUser(y, 1, "wrong", objects);
        y.pager.sessionOpened(3);
        y.xp(3, KernelToPager.newBuilder().setKernelHello(good("good", objects)));
        assertThat(y.take(3).get(0).getPagerWelcome().getDisputesList()).extracting(ObjectDispute::getObject)
                .containsExactly(fullwidth, emoji);
    }

    @Test
    void anInitRefusalNamesTheViewsSizesNotTheirAssignments() {
        List<String> objects = names(i -> "o" + i, 2);
        List<String> many = new ArrayList<>(objects);
        many.addAll(names(i -> "elsewhere-" + i, 5000));
        XpKernels y = pager(objects);
        y.pager.sessionOpened(1);
        y.xp(1, KernelToPager.newBuilder().setKernelHello(good("good", many)));
        y.take(1);
        y.pager.sessionOpened(2);
        y.xp(2, KernelToPager.newBuilder().setKernelHello(KernelHello.newBuilder().setKernelName("wrong")
                .setProtocolVersion(1).setDirectory(ONE).addFeatures("directory_disputes")));
        y.take(2);
        y.xp(2, KernelToPager.newBuilder().setMemoryObjectInit(
                MemoryObjectInit.newBuilder().setObjectId(1).setName("o0").setPageSize(XpKernels.PAGE)));
        MemoryObjectDestroy d = y.take(2).get(0).getMemoryObjectDestroy();
        assertThat(d.getReason()).contains("refuses object 'o0' to kernel 'wrong'", "5002 assignments beyond the",
                "'good' to pager 1 of its list of 2").doesNotContain("elsewhere-");
        assertThat(d.getReason().length()).isLessThan(1024);
    }
}
