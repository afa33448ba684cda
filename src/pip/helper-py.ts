/**
 * The host-side Python helper, run by the target interpreter (`python -I -B -c HELPER <op>`,
 * JSON on stdin and stdout). It only ever reads: index pages, requirement files, archive
 * members. It never imports, builds or runs anything of a package. It uses pip's vendored
 * `packaging` so versions, specifiers, markers and wheel tags mean exactly what pip means.
 *
 * Ops: `resolve` (requirements → chosen artifacts, downloaded and hash-checked), `inspect`
 * (a wheel's members), `sdist` (name/version of an sdist file), `repack` (a .zip sdist as
 * .tar.gz, entries checked), `extract-wheel` (the built wheel out of a build-outputs tar).
 */
export const HELPER_PY = String.raw`
import sys, os, re, json, hashlib, zipfile, tarfile, io, shutil, posixpath, urllib.request, urllib.parse, urllib.error, email.parser
from html.parser import HTMLParser
from pip._vendor.packaging.requirements import Requirement, InvalidRequirement
from pip._vendor.packaging.specifiers import SpecifierSet
from pip._vendor.packaging.version import Version, InvalidVersion
from pip._vendor.packaging.utils import canonicalize_name, parse_wheel_filename, parse_sdist_filename
from pip._vendor.packaging.tags import sys_tags

class Fail(Exception):
    def __init__(self, code, message, hint):
        Exception.__init__(self, message)
        self.code, self.message, self.hint = code, message, hint

ARCHIVE = re.compile(r'.*\.(whl|tar\.gz|zip)$')
TAGS = {str(t): i for i, t in enumerate(sys_tags())}
PY = Version('.'.join(str(x) for x in sys.version_info[:3]))

def read_meta(text):
    return email.parser.Parser().parsestr(text)

# ---------- requirement files ----------
def logical_lines(path):
    with open(path, encoding='utf-8') as f:
        raw = f.read().splitlines()
    buf = ''
    for line in raw:
        if line.endswith('\\'):
            buf += line[:-1] + ' '
            continue
        buf += line
        out = re.sub(r'(^|\s)#.*$', '', buf).strip()
        buf = ''
        if out:
            yield out

def parse_file(path, st, constraint=False, seen=None):
    seen = seen or set()
    path = os.path.abspath(path)
    if path in seen:
        return
    seen.add(path)
    if not os.path.isfile(path):
        raise Fail('E_USAGE', 'no requirements file ' + path, 'check the path given to -r/-c')
    base = os.path.dirname(path)
    for line in logical_lines(path):
        parts = line.split()
        opt = parts[0]
        def arg():
            if '=' in opt and opt.startswith('--'):
                return opt.split('=', 1)[1]
            if len(parts) < 2:
                raise Fail('E_USAGE', path + ': ' + opt + ' needs a value', 'fix the requirements file')
            return parts[1]
        name = opt.split('=', 1)[0]
        if name in ('-r', '--requirement', '-c', '--constraint'):
            p = arg()
            parse_file(p if os.path.isabs(p) else os.path.join(base, p), st, constraint or name in ('-c', '--constraint'), seen)
        elif name in ('-i', '--index-url'):
            st['indexUrl'] = arg()
        elif name == '--extra-index-url':
            st['extraIndexUrls'].append(arg())
        elif name in ('-f', '--find-links'):
            p = arg()
            st['findLinks'].append(p if '://' in p or os.path.isabs(p) else os.path.join(base, p))
        elif name == '--no-index':
            st['noIndex'] = True
        elif name == '--require-hashes':
            st['requireHashes'] = True
        elif name == '--pre':
            st['pre'] = True
        elif name in ('-e', '--editable'):
            raise Fail('E_USAGE', path + ': editable requirements (' + line + ') are not supported', 'an editable install runs the project\'s build on this machine; install a built sdist or wheel instead')
        elif opt.startswith('-'):
            raise Fail('E_USAGE', path + ': the option ' + opt + ' is not supported by safe-install pip', 'remove it, or pass what it means as a flag of safe-install pip install')
        else:
            hashes = [h.split('=', 1)[1] for h in parts if h.startswith('--hash=')]
            spec = ' '.join(h for h in parts if not h.startswith('--hash='))
            add_req(st, spec, hashes, base, constraint, path)

def add_req(st, spec, hashes, base, constraint, origin):
    entry = {'hashes': [h.split(':', 1)[1] for h in hashes if h.startswith('sha256:')], 'constraint': constraint, 'origin': origin}
    bad = [h for h in hashes if not h.startswith('sha256:')]
    if bad:
        raise Fail('E_USAGE', origin + ': only sha256 hashes are supported (' + bad[0] + ')', 'use --hash=sha256:<hex>')
    if ARCHIVE.match(spec) and '://' not in spec and ' @ ' not in spec:
        p = spec if os.path.isabs(spec) else os.path.join(base, spec)
        entry['file'] = os.path.abspath(p)
    else:
        try:
            entry['req'] = Requirement(spec)
        except InvalidRequirement as e:
            raise Fail('E_USAGE', origin + ': not a requirement: ' + spec + ' (' + str(e) + ')', 'write requirements as pip does, e.g. name==1.0 or name>=2')
        if entry['req'].url:
            u = entry['req'].url
            if not u.startswith('file:'):
                raise Fail('E_USAGE', origin + ': direct URL requirements are not supported: ' + spec, 'download the file and pass its path, or serve it from an index')
            entry['file'] = urllib.parse.unquote(urllib.parse.urlparse(u).path)
    st['constraints' if constraint else 'requirements'].append(entry)

# ---------- finding candidates ----------
class Links(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.links = []
    def handle_starttag(self, tag, attrs):
        if tag == 'a':
            a = dict(attrs)
            if a.get('href'):
                self.links.append(a)

class NotFound(Exception):
    pass

def fetch(url):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={'Accept': 'text/html', 'User-Agent': 'safe-install'}), timeout=30) as r:
            return r.read(), r.geturl()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            raise NotFound()
        raise Fail('E_REGISTRY_UNREACHABLE', 'could not read ' + url + ': ' + str(e), 'check --index-url / --find-links and the network')
    except Exception as e:
        raise Fail('E_REGISTRY_UNREACHABLE', 'could not read ' + url + ': ' + str(e), 'check --index-url / --find-links and the network')

def page_links(url, missing_ok=False):
    if url.startswith('file://'):
        local = urllib.parse.unquote(urllib.parse.urlparse(url).path)
        if os.path.isdir(local) and not os.path.isfile(os.path.join(local, 'index.html')):
            return [{'url': os.path.join(local, f), 'requiresPython': None, 'yanked': False} for f in sorted(os.listdir(local))]
        if os.path.isdir(local):
            url = 'file://' + urllib.parse.quote(os.path.join(local, 'index.html'))
        elif not os.path.exists(local):
            if missing_ok:
                return []
            raise Fail('E_REGISTRY_UNREACHABLE', 'no such folder ' + local, 'check --find-links / --index-url')
    try:
        body, final = fetch(url)
    except NotFound:
        if missing_ok:
            return []
        raise Fail('E_REGISTRY_UNREACHABLE', 'could not read ' + url + ': 404', 'check --find-links')
    p = Links()
    p.feed(body.decode('utf-8', 'replace'))
    out = []
    for a in p.links:
        full = urllib.parse.urljoin(final, a['href'])
        out.append({'url': full, 'requiresPython': a.get('data-requires-python'), 'yanked': 'data-yanked' in a})
    return out

def classify(url):
    path = urllib.parse.urlparse(url).path if '://' in url else url
    fname = urllib.parse.unquote(posixpath.basename(path))
    try:
        if fname.endswith('.whl'):
            n, v, b, tags = parse_wheel_filename(fname)
            return {'filename': fname, 'name': str(n), 'version': v, 'kind': 'wheel', 'tags': [str(t) for t in tags]}
        if fname.endswith('.tar.gz') or fname.endswith('.zip'):
            n, v = parse_sdist_filename(fname)
            return {'filename': fname, 'name': str(n), 'version': v, 'kind': 'sdist', 'tags': []}
    except Exception:
        return None
    return None

def candidates(canon, st, cache):
    if canon in cache:
        return cache[canon]
    found = []
    sources = []
    if not st['noIndex']:
        for idx in [st['indexUrl'] or 'https://pypi.org/simple'] + st['extraIndexUrls']:
            sources.append((idx.rstrip('/') + '/' + canon + '/', True))
    for fl in st['findLinks']:
        local = fl[7:] if fl.startswith('file://') else (fl if '://' not in fl else None)
        if local is not None:
            if os.path.isdir(local):
                for f in sorted(os.listdir(local)):
                    found.append({'url': os.path.join(local, f), 'requiresPython': None, 'yanked': False})
            elif os.path.isfile(local):
                found.append({'url': local, 'requiresPython': None, 'yanked': False})
        else:
            sources.append((fl, False))
    for url, is_index in sources:
        # As pip: an index that cannot be read is skipped (and named if nothing is found).
        try:
            found.extend(page_links(url, missing_ok=is_index))
        except Fail as f:
            if f.code != 'E_REGISTRY_UNREACHABLE':
                raise
            st.setdefault('unreachable', []).append(f.message)
    out = []
    for link in found:
        c = classify(link['url'])
        if not c or canonicalize_name(c['name']) != canon:
            continue
        c.update(link)
        out.append(c)
    cache[canon] = out
    return out

def tag_rank(c):
    if c['kind'] != 'wheel':
        return None
    ranks = [TAGS[t] for t in c['tags'] if t in TAGS]
    return min(ranks) if ranks else None

def choose(canon, spec, pre, st, cache, pinned):
    cands = []
    for c in candidates(canon, st, cache):
        if c['requiresPython']:
            try:
                if not SpecifierSet(c['requiresPython']).contains(PY, prereleases=True):
                    continue
            except Exception:
                continue
        if c['yanked'] and not pinned:
            continue
        if not spec.contains(c['version'], prereleases=pre or spec.prereleases or None):
            continue
        if c['kind'] == 'wheel' and tag_rank(c) is None:
            continue
        cands.append(c)
    if not cands:
        return None
    best = max(c['version'] for c in cands)
    same = [c for c in cands if c['version'] == best]
    wheels = sorted((c for c in same if c['kind'] == 'wheel'), key=tag_rank)
    return wheels[0] if wheels else [c for c in same if c['kind'] == 'sdist'][0]

# ---------- downloading ----------
def download(c, dest, used):
    name = c['filename']
    i = 2
    while name in used:
        name = str(i) + '-' + c['filename']
        i += 1
    used.add(name)
    target = os.path.join(dest, name)
    url = c['url']
    h = hashlib.sha256()
    if '://' in url and not url.startswith('file://'):
        try:
            with urllib.request.urlopen(urllib.request.Request(url.split('#')[0], headers={'User-Agent': 'safe-install'}), timeout=120) as r, open(target, 'wb') as f:
                while True:
                    chunk = r.read(1 << 16)
                    if not chunk:
                        break
                    h.update(chunk)
                    f.write(chunk)
        except Fail:
            raise
        except Exception as e:
            raise Fail('E_REGISTRY_UNREACHABLE', 'could not download ' + url + ': ' + str(e), 'check the index and the network')
    else:
        src = urllib.parse.unquote(urllib.parse.urlparse(url).path) if url.startswith('file://') else url
        with open(src, 'rb') as s, open(target, 'wb') as f:
            data = s.read()
            h.update(data)
            f.write(data)
    digest = h.hexdigest()
    frag = urllib.parse.urlparse(url).fragment if '://' in url else ''
    m = re.match(r'sha256=([0-9a-fA-F]{64})$', frag)
    if m and m.group(1).lower() != digest:
        raise Fail('E_INTEGRITY', c['filename'] + ' does not match the sha256 its index names', 'the index or a proxy served a different file; nothing was installed')
    return target, digest

# ---------- metadata ----------
def wheel_meta(path):
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if re.match(r'^[^/]+\.dist-info/METADATA$', n)]
        if len(names) != 1:
            raise Fail('E_BAD_TARBALL', os.path.basename(path) + ' has no single .dist-info/METADATA', 'this is not a valid wheel')
        return read_meta(z.read(names[0]).decode('utf-8', 'replace'))

def sdist_meta(path):
    text = None
    if path.endswith('.zip'):
        with zipfile.ZipFile(path) as z:
            for n in z.namelist():
                if re.match(r'^[^/]+/PKG-INFO$', n):
                    text = z.read(n).decode('utf-8', 'replace')
                    break
    else:
        with tarfile.open(path, 'r:*') as t:
            for m in t:
                if m.isfile() and re.match(r'^(\./)?[^/]+/PKG-INFO$', m.name):
                    text = t.extractfile(m).read().decode('utf-8', 'replace')
                    break
    return read_meta(text) if text is not None else None

def static_requires(meta):
    """Requires-Dist of an sdist's PKG-INFO, when PEP 643 makes it binding; else None."""
    if meta is None:
        return None
    try:
        mv = Version(meta.get('Metadata-Version', '1.0'))
    except InvalidVersion:
        return None
    dynamic = [d.strip().lower() for d in meta.get_all('Dynamic') or []]
    if mv < Version('2.2') or 'requires-dist' in dynamic:
        return None
    return meta.get_all('Requires-Dist') or []

def installed_version(canon):
    import importlib.metadata as md
    try:
        return Version(md.distribution(canon).version)
    except Exception:
        return None

# ---------- resolve ----------
def pip_config():
    # What pip itself would use from its config files and PIP_* variables (a flag given on the
    # command line replaces the configured value, as in pip). Reading config runs no package code.
    try:
        from pip._internal.configuration import Configuration
        c = Configuration(isolated=False)
        c.load()
        vals = dict(c.items())
    except Exception:
        return {}
    out = {}
    for key in ('index-url', 'extra-index-url', 'find-links', 'no-index', 'constraint', 'require-hashes', 'pre'):
        for scope in (':env:', 'install', 'global'):
            if scope + '.' + key in vals:
                out[key] = vals[scope + '.' + key]
                break
    return out

def truthy(v):
    return str(v).strip().lower() in ('1', 'true', 'yes', 'on')

def op_resolve(inp):
    cfg = {} if inp.get('ignoreConfig') else pip_config()
    # Where the lockfile says packages came from: used only when neither a flag nor pip's config names an index.
    sources = [u for u in (inp.get('sourceIndexUrls') or []) if u]
    st = {'indexUrl': inp.get('indexUrl') or cfg.get('index-url') or (sources[0] if sources else None),
          'extraIndexUrls': list(inp.get('extraIndexUrls') or cfg.get('extra-index-url', '').split()),
          'findLinks': list(inp.get('findLinks') or cfg.get('find-links', '').split()),
          'noIndex': bool(inp.get('noIndex')) or truthy(cfg.get('no-index', '')),
          'requireHashes': bool(inp.get('requireHashes')) or truthy(cfg.get('require-hashes', '')),
          'pre': bool(inp.get('pre')) or truthy(cfg.get('pre', '')),
          'requirements': [], 'constraints': []}
    if sources and not (inp.get('indexUrl') or cfg.get('index-url')):
        st['extraIndexUrls'] += [u for u in sources[1:] if u not in st['extraIndexUrls']]
    if not inp.get('constraintFiles') and cfg.get('constraint'):
        inp['constraintFiles'] = [f for f in cfg['constraint'].split() if os.path.isfile(f)]
    for spec in inp.get('requirements') or []:
        add_req(st, spec, [], os.getcwd(), False, 'command line')
    for f in inp.get('requirementFiles') or []:
        parse_file(f, st)
    for f in inp.get('constraintFiles') or []:
        parse_file(f, st, constraint=True)
    # Lines already read elsewhere (the CI gate parses requirement files and lockfiles itself).
    for e in inp.get('requirementEntries') or []:
        add_req(st, e['spec'], e.get('hashes') or [], e['base'], False, e['origin'])
    for e in inp.get('constraintEntries') or []:
        add_req(st, e['spec'], e.get('hashes') or [], e['base'], True, e['origin'])
    if not st['requirements']:
        raise Fail('E_USAGE', 'no requirements to install', 'name packages, or give -r requirements.txt')
    known = {k: v for k, v in (inp.get('known') or {}).items()}
    dest = inp['dest']
    os.makedirs(dest, exist_ok=True)
    cache, used = {}, set()
    hashes = {}
    specs = {}
    for c in st['constraints']:
        # As pip: a constraint whose environment marker excludes this Python constrains nothing.
        if 'req' in c and (c['req'].marker is None or c['req'].marker.evaluate({'extra': ''})):
            n = canonicalize_name(c['req'].name)
            specs.setdefault(n, SpecifierSet())
            specs[n] &= c['req'].specifier
            if c['hashes']:
                hashes.setdefault(n, set()).update(c['hashes'])
    chosen, order, satisfied, unavailable, not_for_us = {}, [], [], [], []
    no_deps = bool(inp.get('noDeps'))
    queue = []
    for r in st['requirements']:
        if 'file' in r:
            f = r['file']
            c = classify(f)
            if not c or not os.path.isfile(f):
                raise Fail('E_USAGE', 'not a wheel or sdist file: ' + f, 'give a .whl, .tar.gz or .zip that exists')
            c.update({'url': f, 'requiresPython': None, 'yanked': False})
            queue.append(('file', c, set(), r['hashes'], None))
        else:
            if r['req'].marker is not None and not r['req'].marker.evaluate({'extra': ''}):
                not_for_us.append({'name': canonicalize_name(r['req'].name), 'origin': r['origin'], 'marker': str(r['req'].marker)})
                continue
            queue.append(('req', r['req'], set(r['req'].extras), r['hashes'], None))
    extras_of = {}
    while queue:
        kind, item, extras, req_hashes, parent = queue.pop(0)
        if kind == 'file':
            canon = canonicalize_name(item['name'])
            spec = SpecifierSet('==' + str(item['version']))
        else:
            canon = canonicalize_name(item.name)
            spec = item.specifier
        if req_hashes:
            hashes.setdefault(canon, set()).update(req_hashes)
        specs.setdefault(canon, SpecifierSet())
        specs[canon] &= spec
        new_extras = set(extras) - extras_of.get(canon, set())
        extras_of.setdefault(canon, set()).update(extras)
        if canon in chosen:
            ch = chosen[canon]
            if not specs[canon].contains(Version(ch['version']), prereleases=True):
                raise Fail('E_RESOLVE', 'conflicting requirements for ' + canon + ': ' + str(specs[canon]) + ' excludes the chosen ' + ch['version'], 'pin ' + canon + ' to one version that satisfies every requirement')
            if new_extras and ch['requires'] is not None and not no_deps:
                enqueue_deps(queue, ch['requires'], new_extras, canon)
            continue
        if kind == 'req' and not inp.get('ignoreInstalled'):
            v = installed_version(canon)
            if v is not None and specs[canon].contains(v, prereleases=True):
                if not any(s['name'] == canon for s in satisfied):
                    satisfied.append({'name': canon, 'version': str(v)})
                continue
        if st['requireHashes'] and kind == 'req':
            pinned = [s for s in specs[canon] if s.operator in ('==', '===') and '*' not in s.version]
            if not pinned:
                raise Fail('E_USAGE', '--require-hashes: ' + canon + ' is not pinned with ==', 'pin every requirement, dependencies too, with == and --hash')
        if kind == 'file':
            c = item
        else:
            pinned = any(s.operator in ('==', '===') for s in specs[canon])
            c = choose(canon, specs[canon], st['pre'], st, cache, pinned)
            if c is None and inp.get('skipUnavailable') and not st.get('unreachable'):
                # Files of this version exist, none installable by this Python (another platform's
                # wheels): said, not an error, when asked (a lockfile for every platform).
                listed = [x['filename'] for x in candidates(canon, st, cache) if specs[canon].contains(x['version'], prereleases=True)]
                if listed:
                    unavailable.append({'name': canon, 'spec': str(specs[canon]), 'files': listed[:5], 'requiredBy': parent})
                    continue
            if c is None:
                where = 'the find-links' if st['noIndex'] else 'the index' + (' and find-links' if st['findLinks'] else '')
                unreachable = st.get('unreachable') or []
                raise Fail('E_REGISTRY_UNREACHABLE' if unreachable else 'E_PACKAGE_NOT_FOUND',
                           'no distribution of ' + canon + (str(specs[canon]) or '') + ' for this Python in ' + where + ('; ' + '; '.join(unreachable[:2]) if unreachable else ''),
                           'check the name and version, --index-url and --find-links (pip config and PIP_* variables count too)')
        path, digest = download(c, dest, used)
        if st['requireHashes'] or canon in hashes:
            allowed = hashes.get(canon, set())
            if not allowed:
                raise Fail('E_INTEGRITY', '--require-hashes: no hash given for ' + canon, 'add --hash=sha256:... for every requirement, dependencies too')
            if digest not in allowed:
                raise Fail('E_INTEGRITY', c['filename'] + ' has sha256 ' + digest + ', which the requirements do not list', 'the file changed, or the hash is wrong; nothing was installed')
        if c['kind'] == 'wheel':
            meta = wheel_meta(path)
            requires = meta.get_all('Requires-Dist') or []
        else:
            meta = sdist_meta(path)
            requires = static_requires(meta)
            if requires is None and canon in known:
                requires = known[canon]
        entry = {'name': canon, 'displayName': (meta.get('Name') if meta else None) or c['name'], 'version': str(c['version']), 'kind': c['kind'],
                 'filename': c['filename'], 'path': path, 'sha256': digest, 'url': c['url'], 'requires': requires,
                 'depsKnown': requires is not None, 'requiredBy': parent}
        if kind == 'req':
            entry['previousKind'] = previous_kind(canon, c['version'], st, cache)
        chosen[canon] = entry
        order.append(canon)
        if requires is not None and not no_deps:
            enqueue_deps(queue, requires, extras_of[canon], canon)
    return {'packages': [chosen[n] for n in order], 'satisfied': satisfied, 'unavailable': unavailable, 'markerExcluded': not_for_us,
            'sources': {'indexUrl': st['indexUrl'], 'extraIndexUrls': st['extraIndexUrls'], 'findLinks': st['findLinks'], 'noIndex': st['noIndex']}}

def previous_kind(canon, version, st, cache):
    # How this Python would install the version published before this one on the same sources:
    # 'wheel' (nothing runs), 'sdist' (a build runs), or None for a first release. From the index
    # pages already read: no extra request.
    older = [c for c in candidates(canon, st, cache) if c['version'] < version and (version.is_prerelease or not c['version'].is_prerelease)]
    older = [c for c in older if not c['requiresPython'] or _python_ok(c['requiresPython'])]
    if not older:
        return None
    top = max(c['version'] for c in older)
    same = [c for c in older if c['version'] == top]
    return 'wheel' if any(c['kind'] == 'wheel' and tag_rank(c) is not None for c in same) else 'sdist'

def _python_ok(spec):
    try:
        return SpecifierSet(spec).contains(PY, prereleases=True)
    except Exception:
        return False

def enqueue_deps(queue, requires, extras, parent):
    for line in requires:
        try:
            r = Requirement(line)
        except InvalidRequirement:
            raise Fail('E_RESOLVE', 'a package declares an invalid dependency: ' + line, 'report it to the package\'s authors')
        envs = [{'extra': e} for e in (set(extras) | {''})]
        if r.marker is not None and not any(r.marker.evaluate(env) for env in envs):
            continue
        if r.url:
            raise Fail('E_RESOLVE', 'a package depends on a direct URL: ' + line, 'install that dependency from an index or a file yourself')
        queue.append(('req', r, set(r.extras), [], parent))

# ---------- wheel inspection ----------
NATIVE = re.compile(r'\.(so(\.[0-9]+)*|pyd|dylib)$')

def op_inspect(inp):
    path = inp['wheel']
    meta = wheel_meta(path)
    fn = parse_wheel_filename(os.path.basename(inp.get('filename') or path))
    try:
        version = str(Version(meta.get('Version', '')))
    except InvalidVersion:
        version = meta.get('Version', '')
    out = {'name': str(canonicalize_name(meta.get('Name', ''))), 'version': version, 'filenameName': str(fn[0]), 'filenameVersion': str(fn[1]),
           'tags': [str(t) for t in fn[3]], 'compatible': any(str(t) in TAGS for t in fn[3]),
           'requires': meta.get_all('Requires-Dist') or [], 'pth': [], 'customize': [], 'scripts': [], 'data': [], 'headers': [],
           'entryPoints': [], 'native': [], 'unsafe': [], 'topLevel': [], 'files': 0}
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        out['files'] = len(infos)
        data_dirs = set()
        for i in infos:
            n = i.filename
            if n.endswith('/'):
                continue
            parts = n.split('/')
            if n.startswith('/') or '\\' in n or '..' in parts or re.match(r'^[A-Za-z]:', n):
                out['unsafe'].append(n)
                continue
            mode = (i.external_attr >> 16) & 0o7777
            if mode & 0o6000:
                out['unsafe'].append(n + ' (setuid/setgid)')
            top = parts[0]
            rest = parts
            if top.endswith('.data') and len(parts) >= 3:
                scheme = parts[1]
                data_dirs.add(top)
                rest = parts[2:]
                if scheme == 'scripts':
                    body = z.read(i)[:200].decode('utf-8', 'replace').split('\n')[0]
                    out['scripts'].append({'path': '/'.join(rest), 'firstLine': body})
                    continue
                if scheme == 'data':
                    out['data'].append('/'.join(rest))
                    continue
                if scheme == 'headers':
                    out['headers'].append('/'.join(rest))
                    continue
                if scheme not in ('purelib', 'platlib'):
                    out['unsafe'].append(n + ' (unknown scheme ' + scheme + ')')
                    continue
            elif top.endswith('.dist-info'):
                if len(parts) == 2 and parts[1] == 'entry_points.txt':
                    section = None
                    for line in z.read(i).decode('utf-8', 'replace').splitlines():
                        line = line.strip()
                        m = re.match(r'^\[(.+)\]$', line)
                        if m:
                            section = m.group(1).strip()
                        elif section in ('console_scripts', 'gui_scripts') and '=' in line:
                            k, v = line.split('=', 1)
                            out['entryPoints'].append({'group': section, 'name': k.strip(), 'target': v.strip()})
                continue
            # a file that lands in site-packages, at rest
            if len(rest) == 1:
                fname = rest[0]
                if fname.endswith('.pth'):
                    lines = z.read(i).decode('utf-8', 'replace').splitlines()
                    exe = [l for l in lines if l.startswith('import ') or l.startswith('import\t')]
                    out['pth'].append({'path': fname, 'exec': exe[:5], 'execCount': len(exe)})
                if fname in ('sitecustomize.py', 'usercustomize.py') or fname.startswith('sitecustomize.') or fname.startswith('usercustomize.'):
                    out['customize'].append(fname)
            if rest:
                tl = rest[0] if len(rest) > 1 else re.sub(r'\..*$', '', rest[0])
                if tl and tl not in out['topLevel']:
                    out['topLevel'].append(tl)
            if NATIVE.search(n):
                out['native'].append('/'.join(rest))
    return out

# ---------- sdists ----------
def op_sdist(inp):
    path = inp['path']
    c = classify(inp.get('filename') or path)
    meta = sdist_meta(path)
    name = meta.get('Name') if meta else (c['name'] if c else None)
    version = meta.get('Version') if meta else (str(c['version']) if c else None)
    if not name or not version:
        raise Fail('E_NOT_A_PACKAGE', os.path.basename(path) + ' is not an sdist: no PKG-INFO and no name-version file name', 'give a source distribution made by python -m build --sdist or setup.py sdist')
    return {'name': str(canonicalize_name(name)), 'displayName': name, 'version': version, 'requires': static_requires(meta)}

def safe_member(n):
    parts = n.replace('\\', '/').split('/')
    return not (n.startswith('/') or '..' in parts or re.match(r'^[A-Za-z]:', n))

def op_repack(inp):
    src, dest = inp['path'], inp['dest']
    with zipfile.ZipFile(src) as z, tarfile.open(dest, 'w:gz') as t:
        for i in z.infolist():
            if not safe_member(i.filename):
                raise Fail('E_BAD_TARBALL', os.path.basename(src) + ' has an unsafe member ' + i.filename, 'this archive would write outside its folder')
            ti = tarfile.TarInfo(i.filename.rstrip('/'))
            if i.filename.endswith('/'):
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            else:
                data = z.read(i)
                ti.size = len(data)
                ti.mode = 0o755 if ((i.external_attr >> 16) & 0o111) else 0o644
                t.addfile(ti, io.BytesIO(data))
    return {'path': dest}

def op_extract_wheel(inp):
    src, dest = inp['tar'], inp['dest']
    found = []
    with tarfile.open(src, 'r:*') as t:
        for m in t:
            n = m.name[2:] if m.name.startswith('./') else m.name
            if re.match(r'^' + re.escape(inp['dir']) + r'/[^/]+\.whl$', n) and m.isfile():
                os.makedirs(dest, exist_ok=True)
                fname = posixpath.basename(n)
                with t.extractfile(m) as r, open(os.path.join(dest, fname), 'wb') as w:
                    shutil.copyfileobj(r, w)
                found.append(os.path.join(dest, fname))
    return {'wheels': found}

OPS = {'resolve': op_resolve, 'inspect': op_inspect, 'sdist': op_sdist, 'repack': op_repack, 'extract-wheel': op_extract_wheel}

def main():
    op = sys.argv[1]
    inp = json.loads(sys.stdin.read() or '{}')
    try:
        res = OPS[op](inp)
        sys.stdout.write(json.dumps({'ok': res}, default=str))
    except Fail as f:
        sys.stdout.write(json.dumps({'error': {'code': f.code, 'message': f.message, 'hint': f.hint}}))
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as e:
        sys.stdout.write(json.dumps({'error': {'code': 'E_BAD_TARBALL', 'message': 'damaged archive: ' + str(e), 'hint': 'download it again; nothing was installed'}}))

main()
`;
