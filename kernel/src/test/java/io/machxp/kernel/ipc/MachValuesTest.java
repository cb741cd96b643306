package io.machxp.kernel.ipc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The numeric values of rights and dispositions, looked up by table: each found, nothing else. */
class MachValuesTest {
    @Test
    void everyDispositionIsFoundByItsValueAndNoOtherValueIs() {
        for (MsgType t : MsgType.values()) {
            assertThat(MsgType.of(t.value)).isSameAs(t);
        }
        for (int v : new int[] {Integer.MIN_VALUE, -1, 0, 14, 22, 0x10000, Integer.MAX_VALUE}) {
            assertThat(MsgType.of(v)).as("value %d", v).isNull();
        }
    }

    @Test
    void everyRightIsFoundByItsValueAndNoOtherValueIs() {
        for (PortRight r : PortRight.values()) {
            assertThat(PortRight.of(r.value)).isSameAs(r);
        }
        for (int v : new int[] {Integer.MIN_VALUE, -1, PortRight.values().length, Integer.MAX_VALUE}) {
            assertThat(PortRight.of(v)).as("value %d", v).isNull();
        }
    }
}
