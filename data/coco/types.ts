/** The COCO JSON formats (instances files and detection results), as far as resdet reads them. */

/** [x, y, width, height] in pixels, x/y of the top-left corner. */
export type CocoBox = [number, number, number, number];

export interface CocoImage {
  id: number;
  width?: number;
  height?: number;
  file_name?: string;
  [field: string]: unknown;
}

export interface CocoAnnotation {
  id: number;
  image_id: number;
  category_id: number;
  bbox: CocoBox;
  /** For COCO instances this is the segmentation's area, not w*h; the area ranges use it. */
  area: number;
  /** 1 marks a crowd region: ignored, and detections on it are neither right nor wrong. */
  iscrowd: number;
  segmentation?: unknown;
  /** Present on detections loaded with loadRes. */
  score?: number;
  [field: string]: unknown;
}

export interface CocoCategory {
  id: number;
  name: string;
  supercategory?: string;
  [field: string]: unknown;
}

/** An instances file as read from disk. */
export interface CocoDatasetJson {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
  info?: unknown;
  licenses?: unknown;
  [field: string]: unknown;
}

/** One detection in the COCO results format. */
export interface CocoResult {
  image_id: number;
  category_id: number;
  bbox: CocoBox;
  score: number;
}
