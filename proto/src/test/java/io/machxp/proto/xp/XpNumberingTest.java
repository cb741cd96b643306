package io.machxp.proto.xp;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import org.junit.jupiter.api.Test;

/**
 * xp.proto's numbering rule (xp-spec 12.1, review F5): a removed field's number and name are
 * reserved and never given again. KernelToPager 16 was memory_object_futex_forwarded; the routine
 * added for a reclaim in parts took it before this rule, and takes 17 now.
 */
class XpNumberingTest {
    private static boolean reserves(DescriptorProto d, int number) {
        return d.getReservedRangeList().stream().anyMatch(r -> r.getStart() <= number && number < r.getEnd());
    }

    @Test
    void removedNumbersAndNamesAreReservedAndTheReclaimContinueHasANeverUsedNumber() {
        DescriptorProto k = KernelToPager.getDescriptor().toProto();
        assertThat(KernelToPager.getDescriptor().findFieldByNumber(16)).isNull();
        assertThat(reserves(k, 16)).isTrue();
        assertThat(k.getReservedNameList()).contains("memory_object_futex_forwarded");
        assertThat(KernelToPager.getDescriptor().findFieldByName("memory_object_reclaim_continue").getNumber())
                .isEqualTo(17);
        assertThat(MemoryObjectFutexReleased.getDescriptor().toProto().getReservedNameList()).contains("forwarded");
        assertThat(MemoryObjectRelinquishFutex.getDescriptor().toProto().getReservedNameList())
                .contains("forward_page", "cancel_forward");
    }
}
