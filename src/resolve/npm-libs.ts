/**
 * arborist + pacote cost ~0.4 s to load (pacote pulls in sigstore eagerly). Loading them on the
 * first resolve keeps `--help`, policy checks and report rendering instant.
 */
type ArboristModule = typeof import('@npmcli/arborist');
type PacoteModule = typeof import('pacote');

export interface NpmLibs {
  Arborist: ArboristModule;
  pacote: PacoteModule;
}

let loading: Promise<NpmLibs> | undefined;

export function loadNpmLibs(): Promise<NpmLibs> {
  loading ??= Promise.all([import('@npmcli/arborist'), import('pacote')]).then(([arborist, pacote]) => ({
    Arborist: arborist.default,
    pacote: pacote.default,
  }));
  return loading;
}
