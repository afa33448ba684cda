/**
 * A small but real git repository: loose objects, refs, reflog and index, so `git log`,
 * `git status` and `git remote -v` in the decoy project answer like on a real checkout.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';

export interface GitPerson {
  name: string;
  email: string;
}

export interface GitCommitSpec {
  /** Unix seconds. */
  time: number;
  message: string;
  /** Path → content: the whole tree at this commit. */
  files: Record<string, string>;
}

export interface GitRepo {
  /** Path inside `.git/` → content. */
  files: Record<string, Buffer | string>;
  head: string;
}

function sha1(data: Buffer): Buffer {
  return crypto.createHash('sha1').update(data).digest();
}

class ObjectStore {
  readonly objects = new Map<string, Buffer>();

  put(type: 'blob' | 'tree' | 'commit', body: Buffer): Buffer {
    const raw = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
    const id = sha1(raw);
    this.objects.set(id.toString('hex'), zlib.deflateSync(raw));
    return id;
  }

  /** A tree for `files` (paths with `/`), written bottom-up; returns its id. */
  tree(files: Record<string, string>, blobs: Map<string, Buffer>): Buffer {
    const here = new Map<string, { mode: string; id: Buffer }>();
    const sub = new Map<string, Record<string, string>>();
    for (const [p, content] of Object.entries(files)) {
      const slash = p.indexOf('/');
      if (slash === -1) {
        const id = this.put('blob', Buffer.from(content));
        blobs.set(p, id);
        here.set(p, { mode: '100644', id });
      } else {
        const dir = p.slice(0, slash);
        const rest = sub.get(dir) ?? {};
        rest[p.slice(slash + 1)] = content;
        sub.set(dir, rest);
      }
    }
    for (const [dir, rest] of sub) {
      const inner = new Map<string, Buffer>();
      const id = this.tree(rest, inner);
      for (const [p, blob] of inner) blobs.set(`${dir}/${p}`, blob);
      here.set(dir, { mode: '40000', id });
    }
    // git sorts tree entries by name, comparing a folder's name as if it ended in "/".
    const key = (name: string, mode: string): string => (mode === '40000' ? `${name}/` : name);
    const entries = [...here.entries()].sort(([a, x], [c, y]) => (key(a, x.mode) < key(c, y.mode) ? -1 : 1));
    return this.put(
      'tree',
      Buffer.concat(entries.map(([name, e]) => Buffer.concat([Buffer.from(`${e.mode} ${name}\0`), e.id]))),
    );
  }
}

function stamp(person: GitPerson, time: number): string {
  return `${person.name} <${person.email}> ${Math.floor(time)} +0000`;
}

/** The index (DIRC v2) for the last commit's files, so `git status` reports a clean tree. */
function indexFile(blobs: Map<string, Buffer>, files: Record<string, string>, mtimes: Record<string, number>): Buffer {
  const paths = [...blobs.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const header = Buffer.alloc(12);
  header.write('DIRC', 0);
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(paths.length, 8);
  const entries = paths.map((p) => {
    const name = Buffer.from(p);
    const fixed = Buffer.alloc(62);
    const t = Math.floor(mtimes[p] ?? 0);
    fixed.writeUInt32BE(t, 0);
    fixed.writeUInt32BE(t, 8);
    fixed.writeUInt32BE(0o100644, 24);
    fixed.writeUInt32BE(1000, 28);
    fixed.writeUInt32BE(1000, 32);
    fixed.writeUInt32BE(Buffer.byteLength(files[p] ?? ''), 36);
    blobs.get(p)!.copy(fixed, 40);
    fixed.writeUInt16BE(Math.min(name.length, 0xfff), 60);
    const pad = 8 - ((62 + name.length) % 8);
    return Buffer.concat([fixed, name, Buffer.alloc(pad)]);
  });
  const body = Buffer.concat([header, ...entries]);
  return Buffer.concat([body, sha1(body)]);
}

export function gitRepo(opts: {
  person: GitPerson;
  commits: GitCommitSpec[];
  remote: string;
  branch?: string;
  /** Path → mtime of the working tree files (for the index). */
  mtimes: Record<string, number>;
}): GitRepo {
  const branch = opts.branch ?? 'main';
  const store = new ObjectStore();
  let parent: string | null = null;
  let blobs = new Map<string, Buffer>();
  const reflog: string[] = [];
  let last: GitCommitSpec | undefined;
  for (const commit of opts.commits) {
    blobs = new Map();
    const tree = store.tree(commit.files, blobs);
    const body: string =
      `tree ${tree.toString('hex')}\n` +
      (parent ? `parent ${parent}\n` : '') +
      `author ${stamp(opts.person, commit.time)}\ncommitter ${stamp(opts.person, commit.time)}\n\n${commit.message}\n`;
    const id: string = store.put('commit', Buffer.from(body)).toString('hex');
    const summary = commit.message.split('\n')[0];
    reflog.push(`${parent ?? '0'.repeat(40)} ${id} ${stamp(opts.person, commit.time)}\tcommit${parent ? '' : ' (initial)'}: ${summary}`);
    parent = id;
    last = commit;
  }
  const head = parent!;
  const files: Record<string, Buffer | string> = {
    HEAD: `ref: refs/heads/${branch}\n`,
    config: `[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n[remote "origin"]\n\turl = ${opts.remote}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n[branch "${branch}"]\n\tremote = origin\n\tmerge = refs/heads/${branch}\n`,
    description: "Unnamed repository; edit this file 'description' to name the repository.\n",
    'info/exclude': "# git ls-files --others --exclude-from=.git/info/exclude\n# Lines that start with '#' are comments.\n# For a project mostly in C, the following would be a\n# good list of exclude patterns (uncomment them if you want to use them):\n# *.[oa]\n# *~\n",
    [`refs/heads/${branch}`]: `${head}\n`,
    'refs/remotes/origin/HEAD': `ref: refs/remotes/origin/${branch}\n`,
    [`refs/remotes/origin/${branch}`]: `${head}\n`,
    'logs/HEAD': `${reflog.join('\n')}\n`,
    [`logs/refs/heads/${branch}`]: `${reflog.join('\n')}\n`,
    COMMIT_EDITMSG: `${last?.message.split('\n')[0] ?? ''}\n`,
    index: indexFile(blobs, last?.files ?? {}, opts.mtimes),
  };
  for (const [id, data] of store.objects) files[`objects/${id.slice(0, 2)}/${id.slice(2)}`] = data;
  return { files, head };
}
