import { describe, expect, it } from 'vitest';
import { CALTECH_101, OXFORD_IIIT_PET, RECIPES, getRecipe } from '../../src/data/fetch/recipes.js';

describe('Oxford-IIIT Pet recipe', () => {
  const place = (p: string) => OXFORD_IIIT_PET.place(p);
  it('maps capitalised (cat) breeds to cat and lower-case (dog) breeds to dog', () => {
    expect(place('images/Abyssinian_1.jpg')).toEqual({ group: 'cat', file: 'Abyssinian_1.jpg', source: 'oxford-iiit-pet' });
    expect(place('images/Russian_Blue_200.jpg')?.group).toBe('cat');
    expect(place('images/english_cocker_spaniel_3.jpg')?.group).toBe('dog');
    expect(place('images/yorkshire_terrier_99.jpg')?.group).toBe('dog');
  });
  it('skips what is not a photo of a known breed', () => {
    expect(place('images/Abyssinian_100.mat')).toBeUndefined();
    expect(place('annotations/list.txt')).toBeUndefined();
    expect(place('images/Unknown_Breed_1.jpg')).toBeUndefined();
    expect(place('images/sub/Abyssinian_1.jpg')).toBeUndefined();
  });
  it('points at the official host and pins a checksum', () => {
    expect(OXFORD_IIIT_PET.url).toBe('https://www.robots.ox.ac.uk/~vgg/data/pets/data/images.tar.gz');
    expect(OXFORD_IIIT_PET.md5 ?? OXFORD_IIIT_PET.sha256).toMatch(/^[0-9a-f]{32,64}$/);
  });
});

describe('Caltech-101 recipe', () => {
  const place = (p: string) => CALTECH_101.place(p);
  it('maps faces to selfie and object categories to misc, with unique file names', () => {
    expect(place('101_ObjectCategories/Faces_easy/image_0001.jpg')).toEqual({
      group: 'selfie', file: 'Faces_easy_image_0001.jpg', source: 'caltech-101/Faces_easy',
    });
    expect(place('101_ObjectCategories/airplanes/image_0800.jpg')?.group).toBe('misc');
  });
  it('leaves out animals, cartoon animals and the random background set', () => {
    for (const c of ['Leopards', 'wild_cat', 'cougar_face', 'dalmatian', 'garfield', 'snoopy', 'BACKGROUND_Google', 'ant']) {
      expect(place(`101_ObjectCategories/${c}/image_0001.jpg`)).toBeUndefined();
    }
  });
  it('reads the inner tar.gz of the official zip', () => {
    expect(CALTECH_101.url).toMatch(/^https:\/\/data\.caltech\.edu\//);
    expect(CALTECH_101.inner).toEqual({ path: 'caltech-101/101_ObjectCategories.tar.gz', archive: 'tar.gz' });
  });
});

describe('getRecipe', () => {
  it('finds recipes by name and lists the known ones otherwise', () => {
    expect(RECIPES.map((r) => r.name)).toEqual(['oxford-iiit-pet', 'caltech-101']);
    expect(getRecipe('caltech-101')).toBe(CALTECH_101);
    expect(() => getRecipe('imagenet')).toThrow('unknown data set recipe "imagenet" (known: oxford-iiit-pet, caltech-101)');
  });
});
