import { DescribeKeyPairsCommand, ImportKeyPairCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { ec2KeyFingerprints, parseSshPublicKey } from './key-fingerprint.js';

/**
 * Finds or imports the EC2 key pair holding the dispatcher's public key, named by its
 * fingerprint (`arvados-dispatch-keypair-<fingerprint>`) so that every dispatcher with the
 * same key shares one key pair, as in Arvados.
 *
 * Unlike Arvados, a key pair found by DescribeKeyPairs is cached too (Arvados looks it up
 * again on every create); `forget()` drops the cache when EC2 says the key pair is gone.
 */
export class KeyPairs {
  private readonly names = new Map<string, Promise<string>>();

  constructor(private readonly client: EC2Client) {}

  /**
   * The key pair name for an `authorized_keys` line.
   * @throws the SDK's error (the caller classifies it) or "parsing public key: ..."
   */
  nameFor(publicKey: string): Promise<string> {
    const key = parseSshPublicKey(publicKey);
    let name = this.names.get(key.line);
    if (name === undefined) {
      // Concurrent creates share one lookup (and one import).
      name = this.lookUpOrImport(key.line, ec2KeyFingerprints(key));
      this.names.set(key.line, name);
      name.catch(() => this.names.delete(key.line));
    }
    return name;
  }

  private async lookUpOrImport(line: string, fingerprints: string[]): Promise<string> {
    const found = await this.client.send(new DescribeKeyPairsCommand({ Filters: [{ Name: 'fingerprint', Values: fingerprints }] }));
    const existing = found.KeyPairs?.find((k) => k.KeyName !== undefined && k.KeyName !== '')?.KeyName;
    if (existing !== undefined) return existing;
    const name = `arvados-dispatch-keypair-${fingerprints[0] ?? ''}`;
    try {
      await this.client.send(new ImportKeyPairCommand({ KeyName: name, PublicKeyMaterial: Buffer.from(line) }));
    } catch (e) {
      // Another dispatcher with the same key imported it meanwhile: the name is the same.
      if ((e as { name?: unknown }).name !== 'InvalidKeyPair.Duplicate') throw e;
    }
    return name;
  }

  forget(): void {
    this.names.clear();
  }
}
