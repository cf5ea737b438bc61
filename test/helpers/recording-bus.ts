import { MemoryBus, type CommandNotification, type PublishReceipt } from '../../src/bus/index.js';

/** The in-process bus, remembering what was published and withdrawn. */
export class RecordingBus extends MemoryBus {
  readonly published: CommandNotification[] = [];
  readonly withdrawn: CommandNotification[] = [];
  private readonly bySeq = new Map<number, CommandNotification>();

  override async publish(n: CommandNotification): Promise<PublishReceipt> {
    this.published.push(n);
    const receipt = await super.publish(n);
    this.bySeq.set(receipt.seq, n);
    return receipt;
  }

  override withdraw(receipt: PublishReceipt): Promise<void> {
    const n = this.bySeq.get(receipt.seq);
    if (n) this.withdrawn.push(n);
    return super.withdraw(receipt);
  }
}
