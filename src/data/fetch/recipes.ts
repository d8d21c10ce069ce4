/** Where one file of an archive goes in the fetched data set, or undefined to leave it out. */
export interface Placement {
  group: string;
  /** File name inside the group folder (unique within the group). */
  file: string;
  /** Upstream source, recorded in the data set's manifest.csv. */
  source: string;
}

export type ArchiveKind = 'tar.gz' | 'zip';

/** How to download a public data set and turn it into the `<group>/<file>` layout. */
export interface FetchRecipe {
  name: string;
  title: string;
  homepage: string;
  license: string;
  url: string;
  /** Name of the downloaded file in the downloads folder. */
  fileName: string;
  archive: ArchiveKind;
  /** When the download is an archive holding the real one (Caltech-101's zip holds a tar.gz): its path. */
  inner?: { path: string; archive: ArchiveKind };
  /** Expected sha256 of the download; when unknown the fetcher records and prints the hash it observed. */
  sha256?: string;
  /** Expected md5 of the download, when that is the checksum the publisher or a widely used loader pins. */
  md5?: string;
  /** Expected size in bytes, for progress before the server says (optional). */
  bytes?: number;
  /** Map a path inside the (inner) archive to its place, or undefined to skip it. */
  place(archivePath: string): Placement | undefined;
}

const JPEG = /\.jpe?g$/i;

/** The 12 cat breeds of Oxford-IIIT Pet; its file names start with the breed, capitalised for cats only. */
export const OXFORD_PET_CAT_BREEDS = [
  'Abyssinian', 'Bengal', 'Birman', 'Bombay', 'British_Shorthair', 'Egyptian_Mau',
  'Maine_Coon', 'Persian', 'Ragdoll', 'Russian_Blue', 'Siamese', 'Sphynx',
];

/** Breed of an Oxford-IIIT Pet file name: `British_Shorthair_12.jpg` -> `British_Shorthair`. */
export function oxfordPetBreed(fileName: string): string | undefined {
  return /^(.+)_\d+\.jpe?g$/i.exec(fileName)?.[1];
}

export const OXFORD_IIIT_PET: FetchRecipe = {
  name: 'oxford-iiit-pet',
  title: 'Oxford-IIIT Pet (37 breeds of cats and dogs, about 7,400 photos)',
  homepage: 'https://www.robots.ox.ac.uk/~vgg/data/pets/',
  license: 'CC BY-SA 4.0 (see the homepage)',
  url: 'https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz',
  fileName: 'oxford-iiit-pet-images.tar.gz',
  archive: 'tar.gz',
  // The sha256 of images.tar.gz is not published by the host; the md5 below is the one torchvision's
  // OxfordIIITPet loader pins. The fetcher verifies it and records the sha256 it observes.
  md5: '5c4f3ee8e5d25df40f4fd59a7f44e54c',
  bytes: 791_918_971,
  place(archivePath) {
    const m = /^images\/([^/]+)$/.exec(archivePath);
    if (!m || !JPEG.test(m[1])) return undefined; // a few stray .mat files sit beside the photos
    const breed = oxfordPetBreed(m[1]);
    if (!breed) return undefined;
    // Cat breeds are capitalised in this set's file names (Abyssinian_1.jpg), dog breeds are not (beagle_1.jpg).
    const isCat = OXFORD_PET_CAT_BREEDS.includes(breed);
    if (!isCat && breed[0] !== breed[0].toLowerCase()) return undefined; // unknown capitalised breed: skip
    return { group: isCat ? 'cat' : 'dog', file: m[1], source: 'oxford-iiit-pet' };
  },
};

/**
 * Caltech-101 categories that show neither an animal nor a face (so they are safe "misc" negatives). Animal
 * categories, cartoon animals (garfield, snoopy), fossils and BACKGROUND_Google (a random mix) are left out.
 */
export const CALTECH_101_MISC = [
  'accordion', 'airplanes', 'anchor', 'barrel', 'binocular', 'bonsai', 'brain', 'buddha', 'camera', 'cannon',
  'car_side', 'ceiling_fan', 'cellphone', 'chair', 'chandelier', 'cup', 'dollar_bill', 'electric_guitar',
  'euphonium', 'ewer', 'ferry', 'gramophone', 'grand_piano', 'headphone', 'helicopter', 'inline_skate',
  'joshua_tree', 'ketch', 'lamp', 'laptop', 'lotus', 'mandolin', 'menorah', 'metronome', 'minaret',
  'Motorbikes', 'pagoda', 'pizza', 'pyramid', 'revolver', 'saxophone', 'schooner', 'scissors', 'soccer_ball',
  'stapler', 'stop_sign', 'strawberry', 'sunflower', 'umbrella', 'watch', 'water_lilly', 'wheelchair',
  'windsor_chair', 'wrench', 'yin_yang',
];

/** Caltech-101's face categories: people's faces, used as the "selfie" group. */
export const CALTECH_101_FACES = ['Faces', 'Faces_easy'];

export const CALTECH_101: FetchRecipe = {
  name: 'caltech-101',
  title: 'Caltech-101 (faces -> selfie, non-animal object categories -> misc)',
  homepage: 'https://data.caltech.edu/records/mzrjq-6wc02',
  license: 'CC BY 4.0 (see the homepage)',
  url: 'https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip?download=1',
  fileName: 'caltech-101.zip',
  archive: 'zip',
  inner: { path: 'caltech-101/101_ObjectCategories.tar.gz', archive: 'tar.gz' },
  // No checksum could be confirmed for caltech-101.zip without downloading it: the fetcher prints and records
  // the sha256 it observes (a third-party script lists 331234750fc7f77520e50d9565e8b6907b03565e30320da1401130db08c61f91,
  // unverified here), and later fetches of the same file are checked against the recorded value.
  bytes: 137_414_764,
  place(archivePath) {
    const m = /^101_ObjectCategories\/([^/]+)\/([^/]+)$/.exec(archivePath);
    if (!m || !JPEG.test(m[2])) return undefined;
    const [, category, file] = m;
    const group = CALTECH_101_FACES.includes(category) ? 'selfie' : CALTECH_101_MISC.includes(category) ? 'misc' : undefined;
    if (!group) return undefined;
    return { group, file: `${category}_${file}`, source: `caltech-101/${category}` };
  },
};

export const RECIPES: readonly FetchRecipe[] = [OXFORD_IIIT_PET, CALTECH_101];

export function getRecipe(name: string): FetchRecipe {
  const r = RECIPES.find((x) => x.name === name);
  if (!r) throw new Error(`unknown data set recipe "${name}" (known: ${RECIPES.map((x) => x.name).join(', ')})`);
  return r;
}
